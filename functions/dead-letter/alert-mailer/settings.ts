// Where the dead-letter alert email goes, from the environment: SMTP_URL (smtp:// or smtps://, with its
// credentials) and DEAD_LETTER_ALERT_EMAIL (a comma list of addresses, or "off" once the notification system
// delivers operators' alerts). Outside production a missing setting only means "log what would be emailed";
// in production it stops the function at start-up, naming what is missing: alerts nobody receives are worse
// than a function that will not start.

export type MailSettings =
  | { mode: 'send'; smtpUrl: string; to: string[]; from: string; consoleBase: string }
  | { mode: 'log'; missing: string[]; consoleBase: string }
  | { mode: 'off' };

const ADDRESS = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+$/;

export function mailSettings(env: NodeJS.ProcessEnv = process.env): MailSettings {
  const list = env.DEAD_LETTER_ALERT_EMAIL?.trim() ?? '';
  if (list.toLowerCase() === 'off') return { mode: 'off' };
  const to = list.split(',').map((a) => a.trim()).filter(Boolean);
  const wrong = to.filter((a) => !ADDRESS.test(a));
  if (wrong.length) throw new Error(`DEAD_LETTER_ALERT_EMAIL must be a comma list of email addresses (or off); not an address: ${wrong.join(', ')}`);
  const smtpUrl = env.SMTP_URL?.trim() ?? '';
  if (smtpUrl && !/^smtps?:\/\/[^/\s]+/.test(smtpUrl)) throw new Error('SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…');
  // The console's address, so a link in the email opens it; without it the link is a path on the portal.
  const consoleBase = (env.DEAD_LETTER_CONSOLE_URL ?? '').replace(/\/+$/, '');
  if (smtpUrl && to.length) return { mode: 'send', smtpUrl, to, from: env.DEAD_LETTER_ALERT_FROM?.trim() || 'dead-letters@medlab.example', consoleBase };
  const missing = [...(smtpUrl ? [] : ['SMTP_URL']), ...(to.length ? [] : ['DEAD_LETTER_ALERT_EMAIL'])];
  if (env.NODE_ENV === 'production') {
    throw new Error(`${missing.join(' and ')} must be set in production: the dead-letter alerts go out by email until the notification system delivers them (set DEAD_LETTER_ALERT_EMAIL=off once it does); refusing to start`);
  }
  return { mode: 'log', missing, consoleBase };
}
