import { strict as assert } from 'node:assert';
import * as consumer from './index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, deliver, published, type RunningFunction } from '../../../test/support/fixtures';

describe('booking-consumer (KafkaSource on booking-requests)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(consumer); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const request = (slotId: string, patientId = 'p-1', requestId = `r-${patientId}`) =>
    ({ type: 'com.medlab.booking.requested', data: { requestId, patientId, slotId } });

  it('a booking request for a free slot is confirmed and the slot allocated', async () => {
    const slot = await createSlot({ capacity: 1 });
    const res = await deliver(fn.url, request(slot.id));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.outcome, 'confirmed');
    const types = (await published('booking-events')).map((e) => e.type).sort();
    assert.deepEqual(types, ['com.medlab.booking.confirmed', 'com.medlab.slot.allocated']);
  });

  it('a request for a full slot is rejected with reason slot-full, not an error', async () => {
    const slot = await createSlot({ capacity: 1 });
    await deliver(fn.url, request(slot.id, 'p-1'));
    const res = await deliver(fn.url, request(slot.id, 'p-2'));
    assert.equal(res.status, 200);
    const rejected = (await published('booking-events')).find((e) => e.type === 'com.medlab.booking.rejected');
    assert.equal(rejected?.data.reason, 'slot-full');
    assert.equal(rejected?.data.patientId, 'p-2');
  });

  it('a redelivered event (same source and id) has no second effect', async () => {
    const slot = await createSlot({ capacity: 5 });
    const event = { ...request(slot.id), id: 'evt-1', source: '/portal' };
    assert.equal((await deliver(fn.url, event)).body.status, 'processed');
    assert.equal((await deliver(fn.url, event)).body.status, 'duplicate');
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
  });

  it('the same request re-sent under a new event id books once', async () => {
    const slot = await createSlot({ capacity: 5 });
    await deliver(fn.url, request(slot.id, 'p-1', 'req-9'));
    const again = await deliver(fn.url, request(slot.id, 'p-1', 'req-9'));
    assert.equal(again.body.result.outcome, 'already-booked');
    assert.equal(await db().booking.count(), 1);
  });

  it('a cancel request releases the place', async () => {
    const slot = await createSlot({ capacity: 1 });
    const booked = await deliver(fn.url, request(slot.id));
    const res = await deliver(fn.url, { type: 'com.medlab.booking.cancel-requested', data: { bookingId: booked.body.result.bookingId, patientId: 'p-1', reason: 'travel' } });
    assert.equal(res.status, 200);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 0);
    assert.ok((await published('booking-events')).some((e) => e.type === 'com.medlab.slot.released'));
  });

  it('events that can never succeed answer 4xx (dead-letter) naming the fault, never 5xx', async () => {
    const slot = await createSlot();
    const unknownType = await deliver(fn.url, { type: 'com.medlab.unknown', data: {} });
    assert.equal(unknownType.status, 400);
    assert.equal(unknownType.body['invalid-params'][0].name, 'cloudevent/type');
    const badData = await deliver(fn.url, { type: 'com.medlab.booking.requested', data: { patientId: 'p', slotId: 'nope' } });
    assert.equal(badData.status, 400);
    assert.deepEqual(badData.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['data/requestId', 'data/slotId']);
    const wrongPatient = await deliver(fn.url, { type: 'com.medlab.booking.cancel-requested', data: { bookingId: slot.id, patientId: 'p' } });
    assert.equal(wrongPatient.status, 422);
    const notAnEvent = await fetch(fn.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(notAnEvent.status, 400);
    assert.match(notAnEvent.headers.get('content-type')!, /problem\+json/);
    const missingId = await fetch(fn.url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-type': 'x', 'ce-source': '/x', 'content-type': 'application/json' }, body: '{}' });
    assert.ok(missingId.status >= 400 && missingId.status < 500, String(missingId.status));
    assert.match(missingId.headers.get('content-type')!, /problem\+json/);
  });
});
