// Fault: the Kafka broker goes down while patients are booking. Bookings still succeed (or fail cleanly with
// a 4xx problem), their events wait in the outbox, and the outbox publisher reports the backlog with a 503.
// Kafka comes back (a new broker: the mock cannot restart on its port), the publisher sends the backlog,
// and every event arrives once, in order per key.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startKafkaMock, type KafkaMock } from '../../scripts/lib/services';
import { loadManifests } from '../../scripts/lib/manifests';
import { pingEvent } from '../../scripts/lib/runtime/ping';
import { httpMessage } from '../../scripts/lib/runtime/cloudevents';
import { closeBus } from '../../functions/shared/bus';
import { settleOutbox } from '../../functions/shared/publisher';
import { db } from '../../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, patientToken, startFunction, type RunningFunction, eventually } from '../support/fixtures';
import { request, assertProblem, type Answer } from './support';

interface Received { key: string | null; id: string; type: string; source: string; data: any; partition: number }

/** settleOutbox(), but a publish that never ends fails the test instead of hanging it. */
async function settled(what: string): Promise<void> {
  await Promise.race([
    settleOutbox(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the post-commit publish did not finish ${what}`)), 45_000).unref()),
  ]);
}

describe('fault: the Kafka broker is down while bookings are made', function () {
  this.timeout(115_000);
  const previousBrokers = process.env.KAFKA_BROKERS;
  const previousKafkaLog = process.env.KAFKAJS_LOG_LEVEL;
  let first: KafkaMock | undefined;
  let second: KafkaMock | undefined;
  let bookSlot: RunningFunction | undefined;
  let publisher: RunningFunction | undefined;
  let watcher: Consumer | undefined;

  before(async () => {
    await resetDatabase();
    await seedCatalogue();
    // The publisher's kafkajs client logs every refused connection at ERROR on the console; the outage is the point here.
    process.env.KAFKAJS_LOG_LEVEL = 'nothing';
    first = await startKafkaMock();
    process.env.KAFKA_BROKERS = first.brokers;
    await closeBus();
    bookSlot = await startFunction(require('../../functions/booking-queue/book-slot/index.ts'));
    publisher = await startFunction(require('../../functions/booking-queue/outbox-publisher/index.ts'));
  });

  after(async () => {
    await watcher?.disconnect().catch(() => undefined);
    await bookSlot?.close();
    await publisher?.close();
    await settled('at the end').catch(() => undefined);
    if (previousBrokers === undefined) delete process.env.KAFKA_BROKERS;
    else process.env.KAFKA_BROKERS = previousBrokers;
    await closeBus().catch(() => undefined);
    if (previousKafkaLog === undefined) delete process.env.KAFKAJS_LOG_LEVEL;
    else process.env.KAFKAJS_LOG_LEVEL = previousKafkaLog;
    await first?.stop();
    await second?.stop();
  });

  /** The PingSource's CloudEvent to the outbox-publisher function, as Knative sends it every minute. */
  const sweep = async (): Promise<Answer> => {
    const ping = loadManifests().pingSources.find((p) => p.sink.service === 'booking-queue-outbox-publisher');
    assert.ok(ping, 'knative/ declares the outbox publisher PingSource');
    const { headers, body } = httpMessage(pingEvent(ping));
    return request(publisher!.url, { method: 'POST', headers, raw: body, timeoutMs: 60_000 });
  };

  const book = (patient: string, slotId: string, key = randomUUID()) =>
    request(bookSlot!.url, { token: patientToken(patient), body: { slotId }, headers: { 'idempotency-key': key }, timeoutMs: 30_000 });

  it('bookings go on, the events wait in the outbox, and reach the new broker once each, in order per key', async () => {
    // Kafka up: a booking's events leave the outbox right after the commit.
    const warm = await createSlot({ capacity: 2 });
    const warmBooking = await book('p-warm', warm.id);
    assert.equal(warmBooking.status, 201, warmBooking.text);
    await settled('with Kafka up');
    assert.equal(await db().bookingQueueOutboxEvent.count({ where: { publishedAt: null } }), 0, 'published while the broker was up');
    const before = new Set((await db().bookingQueueOutboxEvent.findMany({ select: { id: true } })).map((r) => r.id));

    // The broker dies.
    await first!.stop();

    // Twelve patients book three slots of three places at once; one retries with its Idempotency-Key.
    const slots = [await createSlot({ capacity: 3 }), await createSlot({ capacity: 3 }), await createSlot({ capacity: 3 })];
    const attempts = slots.flatMap((slot, s) => Array.from({ length: 4 }, (_, i) => ({ patient: `p-down-${s}-${i}`, slotId: slot.id, key: randomUUID() })));
    const answers = await Promise.all(attempts.map((a) => book(a.patient, a.slotId, a.key)));
    answers.forEach((res, i) => {
      assert.ok(res.status === 201 || (res.status >= 400 && res.status < 500), `booking ${i} answered ${res.status}: ${res.text}`);
      if (res.status !== 201) {
        assertProblem(res, `booking ${i}`);
        assert.equal(res.status, 409, `a full slot is a conflict: ${res.text}`);
      }
    });
    assert.equal(answers.filter((r) => r.status === 201).length, 9, 'every place was booked');
    const retried = attempts[answers.findIndex((r) => r.status === 201)];
    const again = await book(retried.patient, retried.slotId, retried.key);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true', 'the retry gets the first answer replayed');
    assert.equal(again.body.bookingId, answers.find((r) => r.status === 201)!.body.bookingId, 'the retry returns the same booking');

    // The post-commit publish tried and failed: the events are all still in the outbox, with the error.
    await settled('with Kafka down');
    const waiting = await db().bookingQueueOutboxEvent.findMany({ where: { id: { notIn: [...before] } }, orderBy: { seq: 'asc' } });
    assert.equal(waiting.length, 9 * 2, 'booking.confirmed and slot.allocated per booking');
    assert.ok(waiting.every((r) => r.publishedAt === null), 'nothing was marked published while Kafka was down');
    assert.ok(waiting.some((r) => r.attempts > 0 && r.lastError), `the failed publish is recorded: ${JSON.stringify(waiting.map((r) => [r.attempts, r.lastError]))}`);
    for (const slot of slots) {
      const row = await db().slot.findUniqueOrThrow({ where: { id: slot.id } });
      assert.equal(row.booked, 3);
      assert.equal(await db().booking.count({ where: { slotId: slot.id } }), 3);
    }

    // The scheduled sweep cannot send either: it says so with a 503 and the backlog (or finds the retry publishing).
    const down = await eventually(async () => {
      const r = await sweep();
      if (r.status === 200) {
        assert.equal(r.body.published, 0, `nothing can be published while Kafka is down: ${r.text}`);
        return undefined;
      }
      return r;
    }, 'the outbox publisher to report the outage', 60_000, 200);
    assert.equal(down.status, 503, down.text);
    assertProblem(down, 'outbox publisher with Kafka down');
    assert.equal(down.headers.get('retry-after'), '30', 'a Retry-After header');
    // The answer names Kafka and the backlog, not the database.
    assert.match(down.text, /Kafka refused the batch/);
    assert.match(down.text, /events wait in the outbox/);
    assert.equal(await db().bookingQueueOutboxEvent.count({ where: { publishedAt: null } }), 18);

    // Kafka is back, at a new address: the next publish connects there.
    second = await startKafkaMock();
    process.env.KAFKA_BROKERS = second.brokers;
    await settled('before switching brokers');
    await closeBus();
    await eventually(async () => {
      const r = await sweep();
      // The first send to a fresh broker may still fail (topics being created); the PingSource tries again.
      if (r.status === 503) return assertProblem(r, 'outbox publisher while Kafka comes back');
      assert.equal(r.status, 200, `the sweep with Kafka back: ${r.text}`);
      return r.body.backlog === 0;
    }, 'the outbox publisher to empty the outbox', 60_000, 200);
    assert.equal(await db().bookingQueueOutboxEvent.count({ where: { publishedAt: null } }), 0);

    // What the new broker holds: every waiting event, once, and nothing published earlier.
    const received: Received[] = [];
    const kafka = new Kafka({ clientId: 'faults-watcher', brokers: second.brokers.split(','), logLevel: logLevel.NOTHING });
    watcher = kafka.consumer({ groupId: `faults-watcher-${randomUUID()}` });
    await watcher.connect();
    await watcher.subscribe({ topic: 'booking-events', fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message, partition }) => {
        const h = (k: string) => message.headers?.[k]?.toString() ?? '';
        received.push({ key: message.key?.toString() ?? null, id: h('ce_id'), type: h('ce_type'), source: h('ce_source'), data: JSON.parse(message.value?.toString() ?? 'null'), partition });
      },
    });
    const expected = new Set(waiting.map((r) => r.id));
    await eventually(() => new Set(received.map((r) => r.id)).size >= expected.size, `${expected.size} events on the new broker`, 45_000);
    // Read to the end of the topic before counting, so a second copy of an event cannot still be on its way.
    const admin = kafka.admin();
    await admin.connect();
    const onTopic = await admin.fetchTopicOffsets('booking-events').finally(() => admin.disconnect());
    const records = onTopic.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    await eventually(() => received.length >= records, `all ${records} records of booking-events read`, 45_000);
    const deliveries = new Map<string, number>();
    for (const r of received) deliveries.set(r.id, (deliveries.get(r.id) ?? 0) + 1);
    assert.deepEqual([...deliveries].filter(([, n]) => n !== 1), [], 'events delivered more than once (id, count)');
    assert.deepEqual([...deliveries.keys()].sort(), [...expected].sort(), 'exactly the events that waited in the outbox');
    assert.equal(records, expected.size, 'the broker holds each waiting event once');
    assert.ok(![...before].some((id) => deliveries.has(id)), 'events published before the outage are not sent again');
    assert.ok(received.every((r) => r.source === '/booking-queue/book-slot'));

    // Per key, the events arrive in outbox order; per slot, the places taken count up 1, 2, 3.
    const seqOf = new Map(waiting.map((r) => [r.id, r.seq]));
    const byKey = new Map<string, Received[]>();
    for (const r of received) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r]);
    for (const [key, events] of byKey) {
      const seqs = events.map((e) => seqOf.get(e.id)!);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : 1)), `key ${key}: events out of outbox order`);
      assert.equal(new Set(events.map((e) => e.partition)).size, 1, `key ${key} stays on one partition`);
    }
    for (const slot of slots) {
      const booked = received.filter((r) => r.type === 'com.medlab.slot.allocated' && r.key === slot.id).map((r) => r.data.booked);
      assert.deepEqual(booked, [1, 2, 3], `slot ${slot.id}: places taken in order, each once`);
    }
    const bookings = await db().booking.findMany({ where: { slotId: { in: slots.map((s) => s.id) } } });
    for (const b of bookings) {
      assert.equal(received.filter((r) => r.type === 'com.medlab.booking.confirmed' && r.key === b.id).length, 1, `booking ${b.id}: confirmed once`);
    }
    // A later sweep finds nothing to send again.
    const idle = await sweep();
    assert.equal(idle.status, 200, idle.text);
    assert.equal(idle.body.backlog, 0);
  });
});
