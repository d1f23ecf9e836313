import { strict as assert } from 'node:assert';
import * as bookingCancel from './index';
import * as bookSlot from '../book-slot/index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('booking-cancel (POST /api/bookings/cancel)', () => {
  let fn: RunningFunction;
  let booking: RunningFunction;
  before(async () => { [fn, booking] = await Promise.all([startFunction(bookingCancel), startFunction(bookSlot)]); });
  after(async () => { await fn.close(); await booking.close(); });
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const book = async (slotId: string, patientId = 'p-1') => (await call(booking.url, { token: patientToken(patientId), body: { slotId } })).body.bookingId as string;
  const booked = async (slotId: string) => (await db().slot.findUniqueOrThrow({ where: { id: slotId } })).booked;
  const cancelEvents = async () => (await published('booking-events')).filter((e) => e.type === 'com.medlab.booking.cancelled' || e.type === 'com.medlab.slot.released');

  it('a patient cancels their booking: it is cancelled with the reason, the place is freed, and both events go out', async () => {
    const slot = await createSlot({ capacity: 2 });
    const bookingId = await book(slot.id);
    const res = await call(fn.url, { token: patientToken('p-1'), body: { bookingId, reason: 'travelling' } });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.bookingId, res.body.status, res.body.cancelReason, res.body.slotId], [bookingId, 'cancelled', 'travelling', slot.id]);
    assert.equal(await booked(slot.id), 0);
    const events = await cancelEvents();
    assert.deepEqual(events.map((e) => [e.type, e.key]).sort(), [['com.medlab.booking.cancelled', bookingId], ['com.medlab.slot.released', slot.id]]);
    const [cancelled, released] = ['com.medlab.booking.cancelled', 'com.medlab.slot.released'].map((type) => events.find((e) => e.type === type)!.data);
    assert.deepEqual([cancelled.cancelledBy, cancelled.reason, cancelled.status], ['patient', 'travelling', 'cancelled']);
    assert.deepEqual(released, { slotId: slot.id, bookingId, booked: 0, capacity: 2 });
  });

  it('the freed place of a full slot can be booked by the next patient', async () => {
    const slot = await createSlot({ capacity: 1 });
    const bookingId = await book(slot.id, 'p-1');
    assert.equal((await call(booking.url, { token: patientToken('p-2'), body: { slotId: slot.id } })).status, 409);
    await call(fn.url, { token: patientToken('p-1'), body: { bookingId } });
    assert.equal((await call(booking.url, { token: patientToken('p-2'), body: { slotId: slot.id } })).status, 201);
  });

  it('cancelling twice is a 409 and frees the place only once', async () => {
    const slot = await createSlot({ capacity: 3 });
    const bookingId = await book(slot.id, 'p-1');
    await book(slot.id, 'p-2');
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { bookingId } })).status, 200);
    const again = await call(fn.url, { token: patientToken('p-1'), body: { bookingId } });
    assert.equal(again.status, 409);
    assert.match(again.headers.get('content-type')!, /application\/problem\+json/);
    assert.match(again.body.detail, /cancelled booking cannot become cancelled/);
    assert.equal(await booked(slot.id), 1);
    assert.equal((await cancelEvents()).length, 2);
  });

  it('concurrent cancels of one booking: one succeeds, the rest get 409, the place is freed once', async () => {
    const slot = await createSlot({ capacity: 3 });
    const bookingId = await book(slot.id, 'p-1');
    await book(slot.id, 'p-2');
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(fn.url, { token: patientToken('p-1'), body: { bookingId } })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409, 409, 409]);
    assert.equal(await booked(slot.id), 1);
  });

  it('a pending booking can be cancelled; a checked-in or completed one cannot (409)', async () => {
    const pending = await book((await createSlot({ serviceId: 'check-up' })).id);
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { bookingId: pending } })).body.status, 'cancelled');
    for (const status of ['checked_in', 'completed'] as const) {
      const slot = await createSlot();
      const bookingId = await book(slot.id);
      await db().booking.update({ where: { id: bookingId }, data: { status } });
      const res = await call(fn.url, { token: patientToken('p-1'), body: { bookingId } });
      assert.equal(res.status, 409, status);
      assert.equal(await booked(slot.id), 1);
    }
  });

  it('staff cancel bookings at their branch (cancelledBy staff); services anywhere', async () => {
    const bookingId = await book((await createSlot()).id);
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body: { bookingId } })).status, 404, 'another branch\'s booking is not theirs to see');
    assert.equal((await call(fn.url, { token: staffToken(), body: { bookingId, reason: 'doctor ill' } })).status, 200);
    const other = await book((await createSlot({ branchId: OTHER_BRANCH })).id);
    assert.equal((await call(fn.url, { token: token('service', 'crm'), body: { bookingId: other } })).status, 200);
    const cancelledBy = (await published('booking-events')).filter((e) => e.type === 'com.medlab.booking.cancelled').map((e) => [e.key, e.data.cancelledBy]);
    assert.deepEqual(cancelledBy.sort(), [[bookingId, 'staff'], [other, 'service']].sort());
  });

  it('another patient\'s booking, like a missing one, is a 404 naming bookingId and stays booked', async () => {
    const slot = await createSlot();
    const bookingId = await book(slot.id, 'p-2');
    for (const id of [bookingId, MISSING]) {
      const res = await call(fn.url, { token: patientToken('p-1'), body: { bookingId: id } });
      assert.equal(res.status, 404);
      assert.equal(res.body['invalid-params'][0].name, 'body/bookingId');
    }
    assert.equal(await booked(slot.id), 1);
  });

  it('answers bad input with 400 problem+json naming the field, and needs a token', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'body/bookingId'],
      [{ bookingId: 'b-1' }, 'body/bookingId'],
      [{ bookingId: MISSING, reason: '' }, 'body/reason'],
      [{ bookingId: MISSING, reason: 'x'.repeat(501) }, 'body/reason'],
      [{ bookingId: MISSING, status: 'cancelled' }, 'body/status'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: patientToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { body: { bookingId: MISSING } })).status, 401);
  });
});
