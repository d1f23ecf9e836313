// The automatic retry as npm start wires it (knative/ and keda/, in-process bus): an event its consumer could
// not take is kept by the intake; when its retry is due the cron's minute PingSource queues it on
// dead-letter-retries, the KafkaSource (woken from zero by its ScaledObject) hands it to the retry consumer,
// which delivers the event again. A consumer that recovered resolves the letter; one still failing at the
// last retry parks it, and the alert reaches the operators' mailer.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { resetDatabase, deliver, bundleIdle, published, eventually } from './support/fixtures';
import { standInConsumer, type StandInConsumer } from './support/dead-letters';

describe('automatic retries through the bundle\'s wiring (intake → cron → dead-letter-retries → retry consumer)', function () {
  this.timeout(60_000);
  let bundle: Bundle;
  let consumer: StandInConsumer;

  before(async () => {
    bundle = await new Bundle({ port: 0, schedules: false }).start();
    consumer = await standInConsumer();
  });
  after(async () => { await bundle?.stop(); await consumer?.close(); });
  beforeEach(resetDatabase);

  /** The KafkaSource gave up on an event at the stand-in consumer's `path` (HTTP 503): the intake keeps it. */
  async function deadLettered(path: string, kafkaSource: string) {
    const event = { id: randomUUID(), type: 'com.medlab.booking.requested', source: '/portal', data: { requestId: randomUUID(), patientId: 'p-1', slotId: randomUUID() } };
    const res = await deliver(`${bundle.fn('dead-letter-intake').url}/?kafkasource=${kafkaSource}`, event, {
      'ce-knativeerrordest': `${consumer.url}${path}`, 'ce-knativeerrorcode': '503',
      'ce-knativeerrordata': Buffer.from(JSON.stringify({ title: 'Service Unavailable' })).toString('base64'),
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'open');
    return { id: res.body.deadLetterId as string, eventId: event.id };
  }

  /** The minute the retry is due: the cron's PingSource fires and everything it set going settles. */
  async function minuteWhenDue(letterId: string): Promise<void> {
    await db().$executeRaw`UPDATE dead_letter.dead_letter SET next_retry_at = now() WHERE id = ${letterId}::uuid`;
    assert.equal(await bundle.ping('dead-letter-cron-minute'), 200);
    await bundleIdle(bundle);
  }

  it('a consumer that has recovered takes the event again: the letter is resolved by the automatic retry', async () => {
    consumer.set('/recovering', 503);
    const letter = await deadLettered('/recovering', 'booking-consumer-source');
    consumer.set('/recovering', 200);
    await minuteWhenDue(letter.id);
    const after = await db().deadLetter.findUniqueOrThrow({ where: { id: letter.id } });
    assert.equal(after.status, 'resolved');
    assert.equal(after.resolution, 'auto-retry');
    assert.equal(after.retries, 1);
    assert.deepEqual(consumer.received.filter((r) => r.path === '/recovering').map((r) => r.headers['ce-id']), [letter.eventId]);
  });

  it('still failing at the last retry: parked, and the alert is raised, requested as a notification and taken by the mailer', async () => {
    // lab-results-source has the default policy: 5 retries. Four were made already.
    const letter = await deadLettered('/503', 'lab-results-source');
    await db().$executeRaw`UPDATE dead_letter.dead_letter SET retries = 4 WHERE id = ${letter.id}::uuid`;
    await minuteWhenDue(letter.id);
    const after = await db().deadLetter.findUniqueOrThrow({ where: { id: letter.id } });
    assert.equal(after.status, 'parked');
    assert.equal(after.statusReason, 'retries exhausted (5 of 5)');
    const [alert] = (await published('dead-letter-events')).filter((e) => e.type === 'com.medlab.dead-letter.alert-raised');
    assert.equal(alert.data.kind, 'retries-exhausted');
    assert.equal(alert.data.letterId, letter.id);
    assert.ok((await published('notification-requests')).some((e) => e.data.requestId === alert.data.alertId));
    // The alert is one more hop away (dead-letter-events → the mailer's KafkaSource).
    const mailed = await eventually(async () => {
      const taken = await db().deadLetterInboxEvent.findMany({ where: { consumer: 'dead-letter-alert-mailer' } });
      return taken.length ? taken : undefined;
    }, 'the mailer to take the alert');
    assert.deepEqual(mailed.map((m) => m.type), ['com.medlab.dead-letter.alert-raised']);
  });
});
