// Fault: the booking consumer is killed (SIGKILL, as an OOM kill or a node loss does) while it is in the
// middle of handling an event: its transaction has written the inbox row and waits for the slot's row lock.
// The KafkaSource delivery retries, the restarted consumer handles the event, and the event has exactly one
// effect: one booking, one place taken, one inbox row, one set of outcome events.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import pg from 'pg';
import { deliver, type DeliveryResult } from '../../scripts/lib/runtime/delivery';
import type { Delivery } from '../../scripts/lib/manifests';
import { db } from '../../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, freePort, eventually } from '../support/fixtures';
import { CliFunction } from './support';

describe('fault: a consumer killed in the middle of handling an event', function () {
  this.timeout(110_000);
  let consumer: CliFunction | undefined;
  let locker: pg.Client | undefined;
  let delivery: Promise<DeliveryResult> | undefined;
  let stopDelivery = false;

  before(async () => {
    await resetDatabase();
    await seedCatalogue();
  });

  after(async () => {
    stopDelivery = true;
    await locker?.query('ROLLBACK').catch(() => undefined);
    await locker?.end().catch(() => undefined);
    await consumer?.kill('SIGKILL');
    // A delivery still retrying sees stopped() and ends after its current attempt.
    await delivery?.catch(() => undefined);
  });

  it('the delivery retries into the restarted consumer and the event counts once', async () => {
    const slot = await createSlot({ capacity: 3 });
    const port = await freePort();
    consumer = await new CliFunction('functions/booking-queue/booking-consumer', port).start();

    // The test holds the slot's row lock, so the consumer's transaction blocks after its inbox insert, inside takePlace().
    locker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM booking_queue.slot WHERE id = $1 FOR UPDATE', [slot.id]);

    const requestId = randomUUID();
    const event = new CloudEvent({
      id: randomUUID(), source: '/test/portal', type: 'com.medlab.booking.requested', datacontenttype: 'application/json',
      data: { requestId, patientId: 'p-killed', slotId: slot.id },
    }, false);
    // Linear backoff, enough retries to outlast a restart many times over; no dead-letter sink, so running out
    // of retries shows as outcome "dropped".
    const spec: Delivery = { retry: 60, backoffPolicy: 'linear', backoffDelayMs: 100, timeoutMs: 60_000 };
    const attempts: Array<{ attempt: number; code?: number; error?: string }> = [];
    delivery = deliver(event, consumer.url, spec, undefined, {
      // The spec's backoff, capped at 1 s a wait so the retries poll the restart closely.
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 1000))),
      stopped: () => stopDelivery,
      onAttempt: (attempt, code, error) => { attempts.push({ attempt, code, error }); },
    });

    // The consumer's backend is now waiting for the lock, with the inbox row written in its open transaction.
    // (Asked on another connection: pg_stat_activity is a snapshot per transaction, and the locker is in one.)
    await eventually(async () => {
      // The waiting backend also holds the lock its inbox_event insert took: it is mid-transaction.
      const rows = await db().$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.query ILIKE '%UPDATE%slot%'
          AND l.relation = 'booking_queue.inbox_event'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted`;
      return rows[0].n > 0;
    }, 'the consumer to block on the slot row lock', 30_000);
    assert.equal(attempts.length, 0, `the first attempt must still be in flight: ${JSON.stringify(attempts)}`);

    await consumer.kill('SIGKILL');
    assert.equal(consumer.exit?.signal, 'SIGKILL');
    await eventually(() => attempts.length >= 1, 'the delivery to notice the dead consumer', 30_000);
    assert.equal(attempts[0].code, undefined, `the killed request has no HTTP answer: ${JSON.stringify(attempts[0])}`);

    // Nothing of the half-done transaction is visible.
    assert.equal(await db().booking.count({ where: { slotId: slot.id } }), 0);
    assert.equal(await db().bookingQueueInboxEvent.count({ where: { id: event.id } }), 0);

    await locker.query('ROLLBACK');
    await consumer.start();

    const result = await Promise.race([
      delivery,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the delivery did not finish: ${JSON.stringify(attempts)}`)), 60_000).unref()),
    ]);
    assert.equal(result.outcome, 'delivered', `delivery ${JSON.stringify(result)}; attempts ${JSON.stringify(attempts)}\n${consumer.output()}`);
    assert.equal(result.code, 200);
    assert.ok(result.attempts >= 2, `delivered after a retry (attempts: ${result.attempts})`);

    // Exactly one effect.
    const bookings = await db().booking.findMany({ where: { slotId: slot.id } });
    assert.equal(bookings.length, 1, `one booking: ${JSON.stringify(bookings)}`);
    assert.equal(bookings[0].patientId, 'p-killed');
    assert.equal(bookings[0].idempotencyKey, `request:${requestId}`);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    assert.equal(await db().bookingQueueInboxEvent.count({ where: { id: event.id, source: event.source } }), 1);
    const outbox = await db().bookingQueueOutboxEvent.findMany({ orderBy: { seq: 'asc' } });
    assert.deepEqual(outbox.map((o) => o.type), ['com.medlab.booking.confirmed', 'com.medlab.slot.allocated']);
    assert.equal((outbox[1].data as { booked: number }).booked, 1);

    // A further redelivery of the same event (the KafkaSource may deliver again after a rebalance) has no effect.
    const again = await deliver(event, consumer.url, { ...spec, retry: 0 }, undefined);
    assert.equal(again.outcome, 'delivered');
    assert.equal(await db().booking.count({ where: { slotId: slot.id } }), 1);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    assert.equal(await db().bookingQueueInboxEvent.count({ where: { id: event.id } }), 1);
    assert.equal(consumer.running, true, 'the restarted consumer is still up');
  });
});
