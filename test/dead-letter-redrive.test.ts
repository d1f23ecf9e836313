// A poison event through real Kafka (the mock broker), end to end: booking-consumer is broken (a trigger that
// refuses every booking, as a bad migration would), the KafkaSource dead-letters the request with its reason,
// the consumer is fixed, an operator redrives it through the portal's API, and the booking happens once. A
// redrive whose runner dies between Kafka's acks and its commits is resumed by the worker without sending
// anything twice: it finds on Kafka what went out unrecorded.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { readTopic, watchBookingEvents, type BookingEventsWatch } from './support/kafka';
import { copyManifests, type ManifestCopy } from './support/manifests';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { bus, closeBus, type Bus } from '../functions/shared/bus';
import { settleOutbox } from '../functions/shared/publisher';
import { db } from '../functions/shared/db';
import { createTask, runTask, runnerId } from '../functions/dead-letter/redrive-task';
import { resetDatabase, seedCatalogue, createSlot, call, eventually } from './support/fixtures';
import { operatorToken } from './support/dead-letters';
import { keepLetters, runnerDiedUnrecorded } from './support/redrive';

const brokers = process.env.TEST_KAFKA_BROKERS;

describe('redrive through Kafka (mock broker)', function () {
  this.timeout(120_000);
  let bundle: Bundle;
  let producer: Producer;
  let watch: BookingEventsWatch | undefined;
  let manifests: ManifestCopy | undefined;
  const operator = operatorToken();

  before(async () => {
    assert.ok(brokers, 'TEST_KAFKA_BROKERS is set by npm test (Kafka mock broker)');
    process.env.KAFKA_BROKERS = brokers;
    await resetDatabase();
    await seedCatalogue();
    watch = await watchBookingEvents(brokers!, 'redrive-test');
    producer = watch.producer;
    // No quick retries before the dead-letter sink: a broken consumer's request is a letter at once.
    manifests = copyManifests({ 'knative/base/booking-queue/booking-consumer.yaml': (t) => t.replace('retry: 5', 'retry: 0') });
    bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: manifests.dirs }).start();
  });

  after(async () => {
    await bundle?.stop();
    await watch?.stop();
    await settleOutbox();
    await closeBus();
    manifests?.cleanup();
    delete process.env.KAFKA_BROKERS;
  });

  const source = () => bundle.dispatchers.find((d) => d.source.name === 'booking-consumer-source')!;
  /** Every record of booking-requests handled by booking-consumer-source (delivered or dead-lettered). */
  const caughtUp = () => eventually(async () => {
    await bundle.pollScalers();
    return (await source().offsets()).every((p) => (p.committed ?? 0) >= p.latest);
  }, 'booking-consumer-source to catch up');

  const request = (patientId: string, slotId: string) => {
    const requestId = randomUUID();
    const id = randomUUID();
    const sent = producer.send({ topic: 'booking-requests', messages: [{
      key: patientId,
      value: JSON.stringify({ requestId, patientId, slotId }),
      headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/portal', ce_type: 'com.medlab.booking.requested', 'content-type': 'application/json' },
    }] });
    return { requestId, id, sent };
  };

  /** booking-consumer broken: every booking refused by the database, as a bad migration would. */
  const breakConsumer = async () => {
    await db().$executeRawUnsafe(`CREATE OR REPLACE FUNCTION booking_queue.refuse_booking() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'bookings are being migrated'; END $$`);
    await db().$executeRawUnsafe('CREATE TRIGGER refuse_booking BEFORE INSERT ON booking_queue.booking FOR EACH ROW EXECUTE FUNCTION booking_queue.refuse_booking()');
  };
  const fixConsumer = () => db().$executeRawUnsafe('DROP TRIGGER refuse_booking ON booking_queue.booking');

  const poison = async (patientId: string, slotId: string) => {
    await breakConsumer();
    const r = request(patientId, slotId);
    await r.sent;
    const letter = await eventually(async () => { await bundle.pollScalers(); return db().deadLetter.findFirst({ where: { eventId: r.id } }); }, 'the dead letter');
    await caughtUp();
    await fixConsumer();
    return { ...r, letter };
  };

  /** What booking-consumer did for a request: bookings made, and booking.confirmed events committed for it. */
  const effects = async (requestId: string) => ({
    bookings: await db().booking.count({ where: { idempotencyKey: `request:${requestId}` } }),
    confirmed: await db().bookingQueueOutboxEvent.count({ where: { type: 'com.medlab.booking.confirmed', data: { path: ['requestId'], equals: requestId } } }),
  });

  it('a poison booking request, redriven once the consumer is fixed, books once; the dry run before says nothing newer went through', async () => {
    const slot = await createSlot({ capacity: 2 });
    const { requestId, id, letter } = await poison('p-poison', slot.id);
    assert.equal(letter.errorCode, 500);
    assert.match(letter.reason ?? '', /consumer failed/i);
    assert.deepEqual(await effects(requestId), { bookings: 0, confirmed: 0 });

    const dry = await call(`${bundle.url}/api/dead-letters/redrive`, { token: operator, body: { letterIds: [letter.id], dryRun: true } });
    assert.equal(dry.status, 200);
    assert.deepEqual(dry.body.letters, [{ letterId: letter.id, topic: 'booking-requests', key: 'p-poison', partition: letter.partition }]);

    const started = await call(`${bundle.url}/api/dead-letters/redrive`, { token: operator, body: { letterIds: [letter.id] } });
    assert.equal(started.status, 202);
    const done = await eventually(async () => {
      const res = await call(`${bundle.url}${started.headers.get('location')}`, { token: operator });
      return res.body.task.status === 'completed' && res.body.task;
    }, 'the redrive to complete');
    assert.equal(done.sent, 1);
    const confirmed = await eventually(async () => { await bundle.pollScalers(); return watch!.seen.find((s) => s.headers.ce_type === 'com.medlab.booking.confirmed' && s.value.requestId === requestId); }, 'booking.confirmed for the redriven request');
    assert.equal(confirmed.value.slotId, slot.id);
    await caughtUp();
    assert.deepEqual(await effects(requestId), { bookings: 1, confirmed: 1 });
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    const resolved = await call(`${bundle.url}/api/dead-letters/letter`, { token: operator, query: { id: letter.id } });
    assert.deepEqual([resolved.body.letter.status, resolved.body.letter.resolution, resolved.body.letter.statusBy], ['resolved', 'redrive', 'staff:ops-1']);
    assert.deepEqual(resolved.body.attempts.at(-1), { at: resolved.body.attempts.at(-1).at, kind: 'redrive', outcome: 'sent', by: 'staff:ops-1', code: null, reason: `republished to booking-requests (redrive ${done.id})` });
    assert.equal((await db().bookingQueueInboxEvent.findMany({ where: { id } })).length, 1);
  });

  it('Kafka took the record but its answer was lost (the runner gave up on the send): the next runner finds it on Kafka and sends nothing again', async () => {
    const slot = await createSlot({ capacity: 2 });
    const { requestId, letter } = await poison('p-twice', slot.id);
    const owner = runnerId();
    const task = (await db().$transaction((tx) => createTask(tx, { letterIds: [letter.id] }, 100, 'staff:ops-1', owner)))!;
    const answerLost: Bus = {
      kind: 'kafka',
      send: async () => { throw new Error('not used'); },
      ends: (topics) => bus().ends!(topics),
      publish: async (records) => {
        await bus().publish!(records);
        throw Object.assign(new Error('Request timed out'), { retriable: true });
      },
      close: async () => undefined,
    };
    assert.equal((await runTask(task.id, { owner, target: answerLost })).end, 'send-failed');
    const resumed = await runTask(task.id);
    assert.deepEqual([resumed.end, resumed.found, resumed.sent], ['completed', 1, 0]);
    const onTopic = (await readTopic(brokers!, 'booking-requests')).filter((r) => r.headers['medlab-redrive-item'] === `${task.id}:1`);
    assert.equal(onTopic.length, 1, 'the record is on the topic once');
    await eventually(async () => { await bundle.pollScalers(); return (await effects(requestId)).bookings === 1; }, 'the booking');
    await caughtUp();
    assert.deepEqual(await effects(requestId), { bookings: 1, confirmed: 1 });
    const done = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([done.status, done.sent], ['completed', 1]);
  });

  it('a runner that dies between Kafka\'s acks and its commits (batches unrecorded) is resumed by the worker: every letter once on the topic', async () => {
    const topic = `redrive-resume-${randomUUID().slice(0, 8)}`;
    await producer.send({ topic, messages: [] }); // the topic exists (the mock broker gives it 4 partitions)
    const eventIds = await keepLetters(3_500, topic, 'g-resume');
    const task = await runnerDiedUnrecorded('g-resume');
    const marked = async () => (await readTopic(brokers!, topic)).filter((r) => r.headers['medlab-redrive-item']?.startsWith(`${task.id}:`));
    const wentOut = (await marked()).length;
    assert.ok(wentOut > 1_000 && wentOut < 3_500, `${wentOut} records went out, one batch of them recorded`);

    await db().redriveTask.update({ where: { id: task.id }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    assert.equal(await bundle.ping('dead-letter-redrive-worker-ping'), 200);
    const done = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([done.status, done.sent], ['completed', 3_500]);
    const ids = (await marked()).map((r) => r.headers.ce_id);
    assert.equal(ids.length, 3_500);
    assert.deepEqual(new Set(ids), new Set(eventIds), 'every letter once on the topic');
    assert.equal(await db().deadLetter.count({ where: { fingerprint: 'g-resume', status: 'resolved', resolution: 'redrive' } }), 3_500);
  });

  it('the dry run reads Kafka: it warns when a newer request of the same patient already went through', async () => {
    const slot = await createSlot({ capacity: 3 });
    const { letter } = await poison('p-order', slot.id);
    const later = request('p-order', (await createSlot({ capacity: 1 })).id);
    await later.sent;
    await eventually(async () => { await bundle.pollScalers(); return (await effects(later.requestId)).bookings === 1; }, 'the later request booked');
    const dry = await call(`${bundle.url}/api/dead-letters/redrive`, { token: operator, body: { letterIds: [letter.id], dryRun: true } });
    assert.equal(dry.body.warnings, 1);
    assert.match(dry.body.letters[0].warning, new RegExp(`^newer events of this key already went through after offset ${letter.offset} on partition ${letter.partition} \\(offset \\d+\\)`));
  });
});
