import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { transaction } from './outbox';
import { publishPending, drainOutbox, outboxBacklog } from './publisher';
import type { Bus, BusRecord } from './bus';
import { db } from './db';
import { defineSystem } from './system';
import { system } from '../booking-queue/system';
import { events } from '../booking-queue/events';
import { resetDatabase, holdAdvisoryLock } from '../../test/support/fixtures';

class RecordingBus implements Bus {
  readonly kind = 'memory' as const;
  records: BusRecord[] = [];
  down = false;
  async send(records: BusRecord[]) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
    this.records.push(...records);
  }
  async close() {}
}

const rows = () => db().$queryRaw<Array<{ attempts: number; last_error: string | null }>>`SELECT attempts, last_error FROM booking_queue.outbox_event ORDER BY seq`;

describe('transactional outbox (one per system)', () => {
  const previous = process.env.OUTBOX_PUBLISH_ON_COMMIT;
  before(() => { process.env.OUTBOX_PUBLISH_ON_COMMIT = 'false'; });
  after(() => { process.env.OUTBOX_PUBLISH_ON_COMMIT = previous; });
  beforeEach(resetDatabase);

  const allocate = (slotId: string, booked: number) => transaction(system, '/test/outbox', (_tx, emit) =>
    emit('com.medlab.slot.allocated', { slotId, bookingId: randomUUID(), booked, capacity: 10 }));

  it('an event and the state change it belongs to commit together or not at all', async () => {
    await assert.rejects(transaction(system, '/test/outbox', async (_tx, emit) => {
      await emit('com.medlab.slot.allocated', { slotId: randomUUID(), bookingId: randomUUID(), booked: 1, capacity: 1 });
      throw new Error('the booking failed after the event was emitted');
    }));
    assert.equal(await outboxBacklog(system), 0);
  });

  it('an event that breaks its own schema is refused before it is stored', async () => {
    await assert.rejects(transaction(system, '/test/outbox', (_tx, emit) => emit('com.medlab.slot.allocated', { slotId: 'not-a-uuid' } as never)), /does not match its schema/);
    assert.equal(await outboxBacklog(system), 0);
  });

  it('while Kafka is down nothing is lost; when it returns every key gets its events in order, each once', async () => {
    const bus = new RecordingBus();
    const [a, b] = [randomUUID(), randomUUID()];
    bus.down = true;
    for (let i = 1; i <= 5; i++) {
      await allocate(a, i);
      await allocate(b, i);
    }
    const failed = await publishPending(system, 500, bus);
    assert.match(failed.error!, /ECONNREFUSED/);
    assert.equal(await outboxBacklog(system), 10);
    const [row] = await rows();
    assert.equal(row.attempts, 1);
    assert.match(row.last_error!, /ECONNREFUSED/);

    bus.down = false;
    const sent = await drainOutbox(system, bus);
    assert.equal(sent.published, 10);
    assert.equal(await outboxBacklog(system), 0);
    for (const key of [a, b]) {
      const booked = bus.records.filter((r) => r.key === key).map((r) => JSON.parse(String(r.value)).booked);
      assert.deepEqual(booked, [1, 2, 3, 4, 5]);
    }
    assert.equal((await drainOutbox(system, bus)).published, 0, 'a second sweep sends nothing again');
    assert.equal(bus.records.length, 10);
  });

  it('records are CloudEvents in Kafka binary mode, keyed by the aggregate id', async () => {
    const bus = new RecordingBus();
    const slotId = randomUUID();
    await allocate(slotId, 1);
    await drainOutbox(system, bus);
    const [r] = bus.records;
    assert.equal(r.topic, 'booking-events');
    assert.equal(r.key, slotId);
    assert.equal(r.headers.ce_type, 'com.medlab.slot.allocated');
    assert.equal(r.headers.ce_source, '/test/outbox');
    assert.equal(r.headers.ce_specversion, '1.0');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(String(r.value)).slotId, slotId);
  });

  it("one system's publisher lock never holds another system's events", async () => {
    // A second system with an outbox of its own, as every system has in its schema.
    const other = defineSystem({ name: 'outbox-test', seed: '-', schema: 'outbox_test', events: { 'com.medlab.slot.allocated': events['com.medlab.slot.allocated'] } });
    await db().$executeRawUnsafe('DROP SCHEMA IF EXISTS outbox_test CASCADE');
    await db().$executeRawUnsafe('CREATE SCHEMA outbox_test');
    await db().$executeRawUnsafe('CREATE TABLE outbox_test.outbox_event (LIKE booking_queue.outbox_event INCLUDING ALL)');
    try {
      await allocate(randomUUID(), 1);
      await transaction(other, '/test/other', (_tx, emit) => emit('com.medlab.slot.allocated', { slotId: randomUUID(), bookingId: randomUUID(), booked: 1, capacity: 2 }));
      const bus = new RecordingBus();
      // The booking queue's publisher is busy (say, stuck on a slow Kafka send) and holds its lock.
      const release = await holdAdvisoryLock(1, system.schema);
      const blocked = await publishPending(system, 500, bus);
      const free = await publishPending(other, 500, bus);
      await release();
      assert.equal(blocked.locked, false);
      assert.deepEqual([free.locked, free.published], [true, 1]);
      assert.equal((await drainOutbox(system, bus)).published, 1, 'the first system publishes once its lock is free');
    } finally {
      await db().$executeRawUnsafe('DROP SCHEMA IF EXISTS outbox_test CASCADE');
    }
  });
});
