import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import * as fn from './index';
import { startFunction, deliver, eventually, freePort, type RunningFunction } from '../../../test/support/fixtures';

interface Received { from: string; to: string[]; headers: Record<string, string>; text: string }

/** A plain-text message as nodemailer writes it: folded header lines, a quoted-printable body. */
function readMessage(raw: string): { headers: Record<string, string>; text: string } {
  const [head, ...body] = raw.split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  const qp = body.join('\r\n\r\n').replace(/=\r\n/g, '');
  const text = Buffer.from(qp.replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'node_modules/faas-js-runtime/bin/cli.js');
/** A cluster's environment, with nothing behind it: enough for a function to decide whether it may start. */
const CLUSTER_ENV = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://portal@db.invalid:5432/portal', KAFKA_BROKERS: 'kafka.invalid:9092', LOG_LEVEL: 'silent' };

describe('dead-letter-alert-mailer (KafkaSource on dead-letter-events)', function () {
  this.timeout(60_000);
  let mailer: RunningFunction;
  let smtp: SMTPServer;
  const mails: Received[] = [];
  let refuseNext = 0;
  const previous = { url: process.env.SMTP_URL, to: process.env.DEAD_LETTER_ALERT_EMAIL };

  before(async () => {
    // A real SMTP server on this machine: it takes each message whole, or refuses the next ones when told.
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (refuseNext > 0) {
            refuseNext--;
            return callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
          }
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), ...readMessage(Buffer.concat(chunks).toString('utf8')) });
          callback();
        });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
    process.env.SMTP_URL = `smtp://127.0.0.1:${port}`;
    process.env.DEAD_LETTER_ALERT_EMAIL = 'ops@medlab.example, oncall@medlab.example';
    mailer = await startFunction(fn);
  });
  after(async () => {
    await mailer.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    for (const [name, value] of [['SMTP_URL', previous.url], ['DEAD_LETTER_ALERT_EMAIL', previous.to]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  beforeEach(() => { mails.length = 0; refuseNext = 0; });

  const alert = (id = randomUUID()) => ({
    id, source: '/dead-letter/dead-letter-cron', type: 'com.medlab.dead-letter.alert-raised',
    data: {
      alertId: randomUUID(), alertKey: 'results-waiting:0badc0de0badc0de', kind: 'results-waiting', severity: 'critical',
      summary: '2 event(s) from results topic patient-results undelivered for 16 min: a patient may be waiting for a result',
      system: 'patient-booking', fingerprint: '0badc0de0badc0de', count: 2, oldestMinutes: 16, runbook: 'README#runbook-results-waiting',
    },
  });

  it('emails an alert once to every operator address; a redelivery of the same event sends nothing', async () => {
    const event = alert();
    const first = await deliver(mailer.url, event);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.result, { mailed: true, to: 2 });
    const again = await deliver(mailer.url, event);
    assert.equal(again.body.status, 'duplicate');
    assert.equal(mails.length, 1);
    const [mail] = mails;
    assert.deepEqual(mail.to, ['ops@medlab.example', 'oncall@medlab.example']);
    assert.equal(mail.from, 'dead-letters@medlab.example');
    assert.equal(mail.headers.subject, '[dead letters] CRITICAL results-waiting (patient-booking, group 0badc0de0badc0de)');
    assert.equal(mail.headers['x-medlab-event-id'], event.id);
    assert.match(mail.text, /^2 event\(s\) from results topic patient-results undelivered for 16 min: a patient may be waiting for a result$/m);
    assert.match(mail.text, /^Console: \/dead-letters\?group=0badc0de0badc0de$/m);
    assert.match(mail.text, /^What to do: README#runbook-results-waiting$/m);
  });

  it('emails the daily report with its counts', async () => {
    const res = await deliver(mailer.url, {
      type: 'com.medlab.dead-letter.daily-report', source: '/dead-letter/dead-letter-cron',
      data: { day: '2026-11-21', received: 3, resolved: 1, parked: 1, discarded: 1, open: 2, oldestOpenMinutes: 900, bySystem: [{ system: 'booking-queue', received: 3, open: 2 }], topGroups: [{ fingerprint: 'aaaa', count: 2, type: 'com.medlab.booking.requested', consumer: 'booking-consumer' }] },
    });
    assert.equal(res.status, 200);
    assert.equal(mails.length, 1);
    assert.equal(mails[0].headers.subject, '[dead letters] 2026-11-21: 3 received, 2 waiting');
    assert.match(mails[0].text, /^Still waiting now: 2 \(the oldest for 900 min\)$/m);
    assert.match(mails[0].text, /^ {2}booking-queue: 3 \/ 2$/m);
    assert.match(mails[0].text, /^ {2}aaaa: 2 × com\.medlab\.booking\.requested at booking-consumer$/m);
  });

  it('an email the SMTP server refuses answers 503 (the KafkaSource delivers it again) and goes out then, once', async () => {
    refuseNext = 1;
    const event = alert();
    const refused = await deliver(mailer.url, event);
    assert.equal(refused.status, 503);
    assert.equal(mails.length, 0);
    const again = await deliver(mailer.url, event);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'processed');
    assert.equal(mails.length, 1);
  });

  it('outside production without SMTP_URL it only logs what it would email', async () => {
    const url = process.env.SMTP_URL;
    delete process.env.SMTP_URL;
    try {
      const res = await deliver(mailer.url, alert());
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.result, { mailed: false });
      assert.equal(mails.length, 0);
    } finally {
      process.env.SMTP_URL = url;
    }
  });

  it('in production refuses to start without SMTP_URL and DEAD_LETTER_ALERT_EMAIL, naming them; DEAD_LETTER_ALERT_EMAIL=off starts it', async () => {
    const dir = __dirname;
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...CLUSTER_ENV };
    const refused = spawnSync(process.execPath, ['--require', 'tsx/cjs', CLI, path.join(dir, 'index.ts'), '--port', '0'], { cwd: dir, env, encoding: 'utf8', timeout: 40_000 });
    assert.equal(refused.signal, null, 'it exited by itself rather than running until killed');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /SMTP_URL and DEAD_LETTER_ALERT_EMAIL must be set in production/);

    const port = await freePort();
    const off = spawn(process.execPath, ['--require', 'tsx/cjs', CLI, path.join(dir, 'index.ts'), '--port', String(port)], { cwd: dir, env: { ...env, DEAD_LETTER_ALERT_EMAIL: 'off' }, stdio: 'ignore' });
    try {
      let exited: number | null = null;
      off.on('exit', (code) => { exited = code ?? -1; });
      await eventually(async () => {
        if (exited !== null) throw new Error(`it exited with ${exited}`);
        return (await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined))?.status === 200;
      }, 'the mailer with DEAD_LETTER_ALERT_EMAIL=off to be ready', 40_000, 200);
    } finally {
      off.kill();
    }
  });
});
