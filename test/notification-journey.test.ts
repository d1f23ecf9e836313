// The notification system end to end on a real Kafka wire protocol (librdkafka's mock cluster, started by
// npm test), every function wired as knative/ and keda/ declare it: the CRM announces a patient, the lab
// releases two reports of one visit, and after the results window the patient gets ONE notice: in the
// portal's inbox and by SMS (its delivered callback signed and taken through the gateway). An amended report
// later makes one "your results were updated": its SMS is undelivered, so it falls over to email, received
// over SMTP. The patient opens the inbox and the read receipt comes back to the delivery. No message carries
// a test name, a value or a diagnosis.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { startBundleOnKafka, type BundleOnKafka } from './support/kafka';
import { resetDatabase, call, patientToken } from './support/fixtures';
import { startStandIns, type StandIns } from './support/notifications';

const PATIENT = 'patient-journey';
const PHONE = '+84900000123';
const EMAIL = 'patient-journey@example.com';
const ACCESSION = 'ACC-2026-7001';

/** A CloudEvent in the Kafka binding's binary mode, as the CRM and patient-booking write them. */
const record = (type: string, key: string, data: unknown) => ({
  key,
  value: JSON.stringify(data),
  headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/journey-test', ce_type: type, 'content-type': 'application/json' },
});

describe('notification journey through Kafka: result.released → inbox, SMS delivered, email after failover, read receipt', function () {
  this.timeout(120_000);
  let running: BundleOnKafka;
  let bundle: Bundle;
  let producer: Producer;
  let providers: StandIns;

  before(async () => {
    await resetDatabase();
    running = await startBundleOnKafka('journey-test', ['crm-customers', 'result-events', 'notification-deliveries', 'notification-updates', 'notification-events']);
    ({ bundle, producer } = running);
    // Providers call back at the portal's public address: here, the bundle's gateway (the channels read their
    // settings again, so the functions already running send to the stand-ins).
    providers = await startStandIns(bundle.url);
  });

  after(async () => {
    await running?.stop();
    await providers?.close();
  });

  const until: BundleOnKafka['until'] = (check, what, timeoutMs) => running.until(check, what, timeoutMs);
  /** The minute job of the cron, at an instant of the test's choosing (the results window closing). */
  const cronAt = async (at: Date) => {
    const res = await fetch(bundle.fn('notification-cron').url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job: 'minute', now: at.toISOString() }) });
    assert.equal(res.status, 200, await res.text());
  };
  const release = (reportId: string, status: 'final' | 'amended') =>
    record('com.medlab.result.released', PATIENT, { reportId, patientId: PATIENT, accession: ACCESSION, status, releasedAt: new Date().toISOString() });
  const notice = (template: string) => db().notification.findFirst({ where: { patientId: PATIENT, template }, include: { deliveries: true } });

  it('one notice per visit, over the inbox and SMS, an update that falls over to email, and the read receipt', async () => {
    // The CRM announces the patient (contacts stay in the notification system's copy).
    await producer.send({ topic: 'crm-customers', messages: [record('com.medlab.crm.customer-updated', PATIENT, { patientId: PATIENT, version: 1, email: EMAIL, phone: PHONE, language: 'en', timezone: 'Asia/Ho_Chi_Minh', tier: 'standard' })] });
    await until(() => db().contactPoint.findUnique({ where: { patientId: PATIENT } }), 'the patient\'s contacts copied from crm-customers');
    // The patient wants results in the inbox, then by SMS, then by email, at any hour (no quiet hours).
    const saved = await call(bundle.fn('notification-preference-save').url, { token: patientToken(PATIENT), body: { category: 'results', channels: ['in-app', 'sms', 'email'], quietHours: { start: '00:00', end: '00:00' } } });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));

    // Two reports of one visit released minutes apart: one notice, waiting for the window to close.
    await producer.send({ topic: 'result-events', messages: [release('rep-1', 'final'), release('rep-2', 'final')] });
    const pending = await until(async () => {
      const n = await notice('results-ready');
      return n && (n.variables as { reports?: number }).reports === 2 && n;
    }, 'one results-ready notice holding both reports');
    assert.equal(pending.status, 'pending');
    assert.equal(await db().notification.count({ where: { patientId: PATIENT } }), 1);

    // The window closes: the inbox item and the SMS; the SMS's signed callbacks say delivered.
    await cronAt(new Date(pending.sendAt.getTime() + 1000));
    const sms = await until(async () => {
      const n = await notice('results-ready');
      return n?.deliveries.find((d) => d.channel === 'sms' && d.status === 'delivered');
    }, 'the results SMS delivered');
    assert.equal(providers.sms.messages.length, 1);
    const [text] = providers.sms.messages;
    assert.equal(text.to, PHONE);
    assert.match(text.body, /^Your lab results are ready\. Please sign in to the patient portal to view them\./);
    const inbox = await call(bundle.fn('notification-inbox').url, { token: patientToken(PATIENT) });
    assert.equal(inbox.status, 200);
    assert.deepEqual(inbox.body.items.map((i: { title: string }) => i.title), ['Your results are ready']);
    assert.equal((await notice('results-ready'))!.deliveries.some((d) => d.channel === 'email'), false, 'no failover was needed');

    // An amended report: one "updated" notice; this time the phone does not take the SMS, so email is next.
    providers.sms.script(PHONE, { statuses: ['sent', 'undelivered'], errorCode: '30003' });
    await producer.send({ topic: 'result-events', messages: [release('rep-1', 'amended')] });
    const updated = await until(() => notice('results-updated'), 'one results-updated notice');
    await cronAt(new Date(updated.sendAt.getTime() + 1000));
    const email = await until(async () => providers.smtp.emails.find((m) => m.to.includes(EMAIL)), 'the update emailed after the SMS was undelivered');
    assert.equal(email.subject, 'Your results were updated');
    assert.match(email.text, /Your lab results were updated\. Please sign in to the patient portal to view them\./);
    const after = await until(async () => {
      const n = await notice('results-updated');
      return n?.deliveries.find((d) => d.channel === 'sms')?.status === 'undelivered' && n;
    }, 'the update\'s SMS undelivered');
    assert.deepEqual(after.deliveries.map((d) => d.channel).sort(), ['email', 'in-app', 'sms']);

    // The patient opens the first notice in the portal: a read receipt reaches its in-app delivery.
    const first = inbox.body.items[0];
    const marked = await call(bundle.fn('notification-inbox-mark').url, { token: patientToken(PATIENT), body: { action: 'read', itemIds: [first.id] } });
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    await until(async () => {
      const n = await notice('results-ready');
      return n?.deliveries.find((d) => d.channel === 'in-app')?.status === 'read';
    }, 'the read receipt on the in-app delivery');

    // What left the building: neutral words and a link, never a report id, a test or a value.
    for (const words of [text.body, email.subject, email.text, ...inbox.body.items.map((i: { body: string }) => i.body)]) {
      assert.doesNotMatch(words, /rep-1|rep-2|glucose|hba1c|positive|negative|mmol/i);
    }
  });
});
