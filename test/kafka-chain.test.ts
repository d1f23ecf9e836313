// The event chain on a real Kafka wire protocol (librdkafka's mock cluster, started by npm test):
// outbox → kafkajs producer → topic → KafkaSource-equivalent consumer group → consumer function → outbox.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { watchBookingEvents, type BookingEventsWatch, type Seen } from './support/kafka';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { closeBus } from '../functions/shared/bus';
import { settleOutbox } from '../functions/shared/publisher';
import { db } from '../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, eventually } from './support/fixtures';

const brokers = process.env.TEST_KAFKA_BROKERS;

describe('event chain through Kafka (mock broker)', function () {
  this.timeout(90_000);
  let bundle: Bundle;
  let producer: Producer;
  let kafkaWatch: BookingEventsWatch | undefined;
  let seen: Seen[] = [];

  before(async () => {
    assert.ok(brokers, 'TEST_KAFKA_BROKERS is set by npm test (Kafka mock broker)');
    process.env.KAFKA_BROKERS = brokers;
    await resetDatabase();
    await seedCatalogue();
    kafkaWatch = await watchBookingEvents(brokers!, 'test');
    ({ producer, seen } = kafkaWatch);
    bundle = await new Bundle({ port: 0, schedules: false }).start();
  });

  after(async () => {
    await bundle?.stop();
    await kafkaWatch?.stop();
    await settleOutbox();
    await closeBus();
    delete process.env.KAFKA_BROKERS;
  });

  const bookingRequest = (data: unknown, id = randomUUID()) => ({
    key: 'p-kafka',
    value: JSON.stringify(data),
    headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/portal', ce_type: 'com.medlab.booking.requested', 'content-type': 'application/json' },
  });

  it('a booking made through the portal route reaches Kafka as a binary CloudEvent keyed by the booking id', async () => {
    const slot = await createSlot({ capacity: 2 });
    const res = await call(`${bundle.url}/api/bookings`, { token: patientToken('p-route'), body: { slotId: slot.id } });
    assert.equal(res.status, 201);
    const record = await eventually(async () => seen.find((s) => s.headers.ce_type === 'com.medlab.booking.confirmed' && s.key === res.body.bookingId), 'booking.confirmed on booking-events');
    assert.equal(record.headers.ce_specversion, '1.0');
    assert.equal(record.headers.ce_source, '/booking-queue/book-slot');
    assert.equal(record.headers['content-type'], 'application/json');
    assert.equal(record.value.slotId, slot.id);
    assert.equal(await db().bookingQueueOutboxEvent.count({ where: { publishedAt: null } }), 0, 'nothing left in the outbox');
  });

  it('a booking request produced to booking-requests is decided by the consumer and its outcome published', async () => {
    const slot = await createSlot({ capacity: 1 });
    const requestId = randomUUID();
    await producer.send({ topic: 'booking-requests', messages: [bookingRequest({ requestId, patientId: 'p-kafka', slotId: slot.id })] });
    const confirmed = await eventually(async () => seen.find((s) => s.headers.ce_type === 'com.medlab.booking.confirmed' && s.value.requestId === requestId), 'booking.confirmed for the request');
    assert.equal(confirmed.headers.ce_source, '/booking-queue/booking-consumer');
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
  });

  it('a poison event goes to the dead-letter sink with its reason, and the consumer keeps going', async () => {
    const slot = await createSlot({ capacity: 1 });
    const poisonId = randomUUID();
    const requestId = randomUUID();
    await producer.send({ topic: 'booking-requests', messages: [
      bookingRequest({ patientId: 'p-kafka', slotId: 'not-a-uuid' }, poisonId),
      bookingRequest({ requestId, patientId: 'p-kafka', slotId: slot.id }),
    ] });
    const letter = await eventually(() => db().deadLetter.findFirst({ where: { eventId: poisonId } }), 'the dead letter');
    assert.equal(letter.errorCode, 400);
    assert.match(letter.reason ?? '', /data\/slotId/);
    assert.match(letter.errorDest ?? '', /^http:/);
    await eventually(async () => seen.find((s) => s.value?.requestId === requestId), 'the next request handled');
  });

  it('a record that is not a CloudEvent arrives as dev.knative.kafka.event from the KafkaSource and is dead-lettered', async () => {
    await producer.send({ topic: 'booking-requests', messages: [{ key: 'legacy-1', value: '{"legacy":true}' }] });
    const letter = await eventually(() => db().deadLetter.findFirst({ where: { eventType: 'dev.knative.kafka.event', event: { path: ['key'], equals: 'legacy-1' } } }), 'the wrapped record');
    assert.equal(letter.eventSource, '/apis/v1/namespaces/patient-portal/kafkasources/booking-consumer-source#booking-requests');
    const ev = letter.event as Record<string, unknown>;
    assert.match(String(ev.subject), /^partition:\d+#\d+$/);
    assert.equal(ev.key, 'legacy-1');
    assert.equal(ev.partitionkey, 'legacy-1');
  });
});
