import { strict as assert } from 'node:assert';
import { channelSettingsFrom, LAPTOP_PROVIDERS } from './settings';

describe('notification channel settings (no database)', () => {
  const production = {
    NODE_ENV: 'production', SMTP_URL: 'smtp://mailer:secret@smtp.medlab.vn:587', NOTIFICATION_EMAIL_FROM: 'MedLab <no-reply@medlab.vn>',
    SMS_API_URL: 'https://api.twilio.com', SMS_ACCOUNT_SID: 'AC1', SMS_AUTH_TOKEN: 't', SMS_FROM: 'MEDLAB',
    VAPID_PUBLIC_KEY: 'pub', VAPID_PRIVATE_KEY: 'priv', VAPID_SUBJECT: 'mailto:ops@medlab.vn', PUBLIC_URL: 'https://portal.medlab.vn/',
  };

  it('outside production, unset settings are the laptop catcher and a VAPID key pair made for this process', () => {
    const s = channelSettingsFrom({});
    assert.equal(s.email.smtpUrl, `smtp://127.0.0.1:${LAPTOP_PROVIDERS.smtpPort}`);
    assert.equal(s.sms.apiUrl, `http://127.0.0.1:${LAPTOP_PROVIDERS.smsPort}`);
    assert.equal(s.sms.authToken, LAPTOP_PROVIDERS.smsAuthToken);
    assert.equal(s.sms.callbackBase, 'http://localhost:8080/api/notifications/callbacks/sms');
    assert.match(s.push.publicKey, /^[A-Za-z0-9_-]{87}$/);
    assert.equal(channelSettingsFrom({}).push.publicKey, s.push.publicKey, 'one pair per process');
  });

  it('in production every setting is needed, and the refusal names each missing one', () => {
    assert.equal(channelSettingsFrom(production).sms.callbackBase, 'https://portal.medlab.vn/api/notifications/callbacks/sms');
    const { SMS_AUTH_TOKEN: _t, VAPID_PRIVATE_KEY: _k, ...missing } = production;
    assert.throws(() => channelSettingsFrom(missing), /^Error: SMS_AUTH_TOKEN, VAPID_PRIVATE_KEY must be set in production/);
    assert.throws(() => channelSettingsFrom({ NODE_ENV: 'production' }), /SMTP_URL, NOTIFICATION_EMAIL_FROM, SMS_API_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT, PUBLIC_URL must be set/);
  });

  it('refuses a laptop-shaped address in production and a malformed one anywhere', () => {
    assert.throws(() => channelSettingsFrom({ ...production, PUBLIC_URL: 'http://localhost:8080' }), /PUBLIC_URL must be an https URL in production/);
    assert.throws(() => channelSettingsFrom({ SMTP_URL: 'mail.example' }), /SMTP_URL must be smtp:\/\//);
    assert.throws(() => channelSettingsFrom({ SMS_API_URL: 'ftp://x' }), /SMS_API_URL must be an http\(s\) URL/);
  });
});
