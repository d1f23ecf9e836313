// Operators' email until the notification system delivers notification.requested: every alert and daily
// report on dead-letter-events is mailed through SMTP_URL to DEAD_LETTER_ALERT_EMAIL (a comma list). Once per
// event: consume()'s inbox row commits only after the SMTP server took the email, so a redelivery sends
// nothing, and an email the server refused answers 503 and comes again. Outside production without SMTP it
// logs "would email" instead; in production it will not start without it, unless DEAD_LETTER_ALERT_EMAIL=off.
import nodemailer, { type Transporter } from 'nodemailer';
import { consume } from '../../shared/consume';
import { unavailable } from '../../shared/errors';
import { warmBeforeReady } from '../../shared/lifecycle';
import type { Logger } from '../../shared/log';
import { system } from '../system';
import { topics } from '../events';
import { mailSettings } from './settings';
import { alertMail, reportMail, type Mail } from './mail';
export { init, shutdown } from '../../shared/lifecycle';

// Checked before the function takes events: in production a missing setting stops it, naming the variable.
warmBeforeReady(() => void mailSettings());

/**
 * A stuck SMTP server fails the delivery (retried later) well inside the 30 s every function's request gets
 * (knative/components/function): 5 s to connect, 5 s to greet, 15 s of silence at most.
 */
const TIMEOUTS = { connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 };
const transports = new Map<string, Transporter>();
const transportFor = (url: string) => transports.get(url) ?? transports.set(url, nodemailer.createTransport({ url, ...TIMEOUTS })).get(url)!;

async function send(compose: (consoleBase: string) => Mail, log: Logger, eventId: string): Promise<{ mailed: boolean; to?: number }> {
  const settings = mailSettings();
  if (settings.mode === 'off') return { mailed: false };
  const mail = compose(settings.consoleBase);
  if (settings.mode === 'log') {
    log.info({ subject: mail.subject, missing: settings.missing }, 'would email the dead-letter alert (no SMTP_URL or DEAD_LETTER_ALERT_EMAIL)');
    return { mailed: false };
  }
  try {
    await transportFor(settings.smtpUrl).sendMail({ from: settings.from, to: settings.to, subject: mail.subject, text: mail.text, headers: { 'X-Medlab-Event-Id': eventId } });
  } catch (err) {
    log.warn({ err: String(err) }, 'the SMTP server did not take the dead-letter email; the event will come again');
    throw unavailable('the SMTP server did not take the email; retry shortly', 30);
  }
  log.info({ subject: mail.subject, to: settings.to.length }, 'dead-letter email sent');
  return { mailed: true, to: settings.to.length };
}

export const handle = consume(
  { name: 'dead-letter-alert-mailer', system, topics: [topics.events], summary: 'Email dead-letter alerts and daily reports to operators (until the notification system does)' },
  {
    'com.medlab.dead-letter.alert-raised': (alert, { log, event }) => send((base) => alertMail(alert, base), log, event.id),
    'com.medlab.dead-letter.daily-report': (report, { log, event }) => send((base) => reportMail(report, base), log, event.id),
  },
);
