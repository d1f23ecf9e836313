// Where the channels send, from the environment, read once per process. Outside production a setting left
// unset means the laptop's catcher servers (scripts/lib/laptop/providers: npm start runs them on these ports),
// and the laptop's fixed VAPID key pair; in production every setting must be there, or the function
// stops at start-up naming what is missing: a notice that silently goes nowhere is worse than no start.

/** The catcher servers npm start runs (and the defaults outside production). */
export const LAPTOP_PROVIDERS = {
  smtpPort: 2525,
  smsPort: 4010,
  pushPort: 4020,
  smsAccountSid: 'AC00000000000000000000000000laptop',
  smsAuthToken: 'laptop-sms-auth-token',
} as const;

export interface ChannelSettings {
  email: { smtpUrl: string; from: string };
  sms: { provider: 'twilio'; apiUrl: string; accountSid: string; authToken: string; from: string; callbackBase: string };
  /** extraCa: a PEM the push client trusts besides the usual roots (the laptop's push stand-in has its own certificate). */
  push: { publicKey: string; privateKey: string; subject: string; extraCa?: string };
  /** The portal's public address: where providers call back, and what relative links in a message point into. */
  publicUrl: string;
}

const REQUIRED = ['SMTP_URL', 'NOTIFICATION_EMAIL_FROM', 'SMS_API_URL', 'SMS_ACCOUNT_SID', 'SMS_AUTH_TOKEN', 'SMS_FROM', 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT', 'PUBLIC_URL'] as const;

/**
 * The laptop's VAPID key pair, fixed so the push-key route (what browsers subscribe with) and the sender (what
 * signs the pushes) agree across processes. Dev only: production refuses to start without its own pair.
 */
export const LAPTOP_VAPID = {
  publicKey: 'BOqXDZuG9elQlxO6f6rny029upvEoZu0CQWqkPybVOy07qso-4QzB6mq13BKGHdZZ3bSxck9LPyAMFdR56izsa4',
  privateKey: 'W-6H_nG6nVexl1xFNK5wBGEHFCcyI20moe66PrOjv1M',
} as const;

/** The settings from an environment. */
export function channelSettingsFrom(env: NodeJS.ProcessEnv): ChannelSettings {
  const get = (name: (typeof REQUIRED)[number]) => env[name]?.trim() || undefined;
  if (env.NODE_ENV === 'production') {
    const missing = REQUIRED.filter((name) => !get(name));
    if (missing.length) throw new Error(`${missing.join(', ')} must be set in production (the notification channels' providers); refusing to start without ${missing.length > 1 ? 'them' : 'it'}`);
  }
  const smtpUrl = get('SMTP_URL') ?? `smtp://127.0.0.1:${LAPTOP_PROVIDERS.smtpPort}`;
  if (!/^smtps?:\/\/[^/\s]+/.test(smtpUrl)) throw new Error('SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…');
  const apiUrl = (get('SMS_API_URL') ?? `http://127.0.0.1:${LAPTOP_PROVIDERS.smsPort}`).replace(/\/+$/, '');
  const publicUrl = (get('PUBLIC_URL') ?? `http://localhost:${env.PORT ?? 8080}`).replace(/\/+$/, '');
  for (const [name, url] of [['SMS_API_URL', apiUrl], ['PUBLIC_URL', publicUrl]] as const) {
    if (!/^https?:\/\/[^/\s]+/.test(url)) throw new Error(`${name} must be an http(s) URL`);
    if (env.NODE_ENV === 'production' && !url.startsWith('https://')) throw new Error(`${name} must be an https URL in production`);
  }
  let publicKey = get('VAPID_PUBLIC_KEY');
  let privateKey = get('VAPID_PRIVATE_KEY');
  if (!publicKey || !privateKey) ({ publicKey, privateKey } = LAPTOP_VAPID);
  return {
    email: { smtpUrl, from: get('NOTIFICATION_EMAIL_FROM') ?? 'MedLab <no-reply@medlab.example>' },
    sms: {
      provider: 'twilio', apiUrl,
      accountSid: get('SMS_ACCOUNT_SID') ?? LAPTOP_PROVIDERS.smsAccountSid,
      authToken: get('SMS_AUTH_TOKEN') ?? LAPTOP_PROVIDERS.smsAuthToken,
      from: get('SMS_FROM') ?? 'MEDLAB',
      callbackBase: `${publicUrl}/api/notifications/callbacks/sms`,
    },
    push: { publicKey, privateKey, subject: get('VAPID_SUBJECT') ?? 'mailto:no-reply@medlab.example', ...(env.WEB_PUSH_EXTRA_CA?.trim() ? { extraCa: env.WEB_PUSH_EXTRA_CA } : {}) },
    publicUrl,
  };
}

let cached: ChannelSettings | undefined;

/** This process's settings, read on first use (a function checks them before it is ready: warmBeforeReady). */
export function channelSettings(): ChannelSettings {
  return (cached ??= channelSettingsFrom(process.env));
}

/** Tests that start stand-ins on their own ports read the environment again. */
export function rereadChannelSettings(): void {
  cached = undefined;
}
