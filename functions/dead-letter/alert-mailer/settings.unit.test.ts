import { strict as assert } from 'node:assert';
import { mailSettings } from './settings';

describe('dead-letter alert email settings', () => {
  const smtp = { SMTP_URL: 'smtp://mailer:secret@smtp.medlab.example:587', DEAD_LETTER_ALERT_EMAIL: 'ops@medlab.example, oncall@medlab.example' };

  it('sends to each address of the comma list through SMTP_URL', () => {
    const s = mailSettings({ ...smtp, DEAD_LETTER_CONSOLE_URL: 'https://ops.medlab.example/' });
    assert.deepEqual(s, { mode: 'send', smtpUrl: smtp.SMTP_URL, to: ['ops@medlab.example', 'oncall@medlab.example'], from: 'dead-letters@medlab.example', consoleBase: 'https://ops.medlab.example' });
  });

  it('outside production, without SMTP_URL or addresses, only logs what it would email', () => {
    assert.deepEqual(mailSettings({ NODE_ENV: 'development' }), { mode: 'log', missing: ['SMTP_URL', 'DEAD_LETTER_ALERT_EMAIL'], consoleBase: '' });
    assert.deepEqual(mailSettings({ DEAD_LETTER_ALERT_EMAIL: smtp.DEAD_LETTER_ALERT_EMAIL }), { mode: 'log', missing: ['SMTP_URL'], consoleBase: '' });
  });

  it('in production refuses to start without them, naming what is missing, unless DEAD_LETTER_ALERT_EMAIL=off', () => {
    assert.throws(() => mailSettings({ NODE_ENV: 'production' }), /SMTP_URL and DEAD_LETTER_ALERT_EMAIL must be set in production.*DEAD_LETTER_ALERT_EMAIL=off/);
    assert.throws(() => mailSettings({ NODE_ENV: 'production', SMTP_URL: smtp.SMTP_URL }), /^Error: DEAD_LETTER_ALERT_EMAIL must be set in production/);
    assert.deepEqual(mailSettings({ NODE_ENV: 'production', DEAD_LETTER_ALERT_EMAIL: 'off' }), { mode: 'off' });
    assert.equal(mailSettings({ NODE_ENV: 'production', ...smtp }).mode, 'send');
  });

  it('a setting that is not what it should be names itself', () => {
    assert.throws(() => mailSettings({ ...smtp, DEAD_LETTER_ALERT_EMAIL: 'ops@medlab.example, oncall' }), /DEAD_LETTER_ALERT_EMAIL .*not an address: oncall/);
    assert.throws(() => mailSettings({ ...smtp, SMTP_URL: 'smtp.medlab.example:25' }), /SMTP_URL must be smtp:\/\//);
  });
});
