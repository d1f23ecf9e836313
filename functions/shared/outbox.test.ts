import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { transaction, publishPending, drainOutbox } from './outbox';
import type { Bus, BusRecord } from './bus';
import { db } from './db';
import { resetDatabase } from '../../test/support/fixtures';

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

describe('transactional outbox', () => {
  const previous = process.env.OUTBOX_PUBLISH_ON_COMMIT;
  before(() => { process.env.OUTBOX_PUBLISH_ON_COMMIT = 'false'; });
  after(() => { process.env.OUTBOX_PUBLISH_ON_COMMIT = previous; });
  beforeEach(resetDatabase);

  const allocate = (slotId: string, booked: number) => transaction('/test/outbox', (_tx, emit) =>
    emit('com.medlab.slot.allocated', { slotId, bookingId: randomUUID(), booked, capacity: 10 }));

  it('an event and the state change it belongs to commit together or not at all', async () => {
    await assert.rejects(transaction('/test/outbox', async (_tx, emit) => {
      await emit('com.medlab.slot.allocated', { slotId: randomUUID(), bookingId: randomUUID(), booked: 1, capacity: 1 });
      throw new Error('the booking failed after the event was emitted');
    }));
    assert.equal(await db().outboxEvent.count(), 0);
  });

  it('an event that breaks its own schema is refused before it is stored', async () => {
    await assert.rejects(transaction('/test/outbox', (_tx, emit) => emit('com.medlab.slot.allocated', { slotId: 'not-a-uuid' } as never)), /does not match its schema/);
    assert.equal(await db().outboxEvent.count(), 0);
  });

  it('while Kafka is down nothing is lost; when it returns every key gets its events in order, each once', async () => {
    const bus = new RecordingBus();
    const [a, b] = [randomUUID(), randomUUID()];
    bus.down = true;
    for (let i = 1; i <= 5; i++) {
      await allocate(a, i);
      await allocate(b, i);
    }
    const failed = await publishPending(500, bus);
    assert.match(failed.error!, /ECONNREFUSED/);
    assert.equal(await db().outboxEvent.count({ where: { publishedAt: null } }), 10);
    const row = await db().outboxEvent.findFirstOrThrow();
    assert.equal(row.attempts, 1);
    assert.match(row.lastError!, /ECONNREFUSED/);

    bus.down = false;
    const sent = await drainOutbox(bus);
    assert.equal(sent.published, 10);
    assert.equal(await db().outboxEvent.count({ where: { publishedAt: null } }), 0);
    for (const key of [a, b]) {
      const booked = bus.records.filter((r) => r.key === key).map((r) => JSON.parse(r.value!).booked);
      assert.deepEqual(booked, [1, 2, 3, 4, 5]);
    }
    assert.equal((await drainOutbox(bus)).published, 0, 'a second sweep sends nothing again');
    assert.equal(bus.records.length, 10);
  });

  it('records are CloudEvents in Kafka binary mode, keyed by the aggregate id', async () => {
    const bus = new RecordingBus();
    const slotId = randomUUID();
    await allocate(slotId, 1);
    await drainOutbox(bus);
    const [r] = bus.records;
    assert.equal(r.topic, 'booking-events');
    assert.equal(r.key, slotId);
    assert.equal(r.headers.ce_type, 'com.medlab.slot.allocated');
    assert.equal(r.headers.ce_source, '/test/outbox');
    assert.equal(r.headers.ce_specversion, '1.0');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(r.value!).slotId, slotId);
  });
});
