import { strict as assert } from 'node:assert';
import * as bookingStatus from './index';
import { db } from '../../shared/db';
import type { BookingStatus } from '../domain';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, hoursFromNow, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('booking-status (POST /api/bookings/status)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(bookingStatus); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  /** A booking holding one place in a slot that starts `inHours` from now. */
  async function booking(status: BookingStatus, opts: { inHours?: number; branchId?: string } = {}) {
    const slot = await createSlot({ startsAt: hoursFromNow(opts.inHours ?? 24), branchId: opts.branchId, capacity: 4 });
    await db().slot.update({ where: { id: slot.id }, data: { booked: 1 } });
    return db().booking.create({ data: { slotId: slot.id, patientId: 'p-1', status } });
  }
  const statusOf = async (id: string) => (await db().booking.findUniqueOrThrow({ where: { id } })).status;
  const set = (bookingId: string, status: string, who = staffToken()) => call(fn.url, { token: who, body: { bookingId, status } });

  it('staff confirm a pending booking and booking.status-changed says what it was', async () => {
    const pending = await booking('pending');
    const res = await set(pending.id, 'confirmed');
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.bookingId, res.body.status], [pending.id, 'confirmed']);
    const events = await published('booking-events');
    assert.deepEqual(events.map((e) => [e.type, e.key]), [['com.medlab.booking.status-changed', pending.id]]);
    assert.deepEqual([events[0].data.status, events[0].data.previousStatus], ['confirmed', 'pending']);
  });

  it('a checked-in visit is completed', async () => {
    const visit = await booking('checked_in', { inHours: -1 });
    const res = await set(visit.id, 'completed', token('service', 'lab-system'));
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'completed');
  });

  it('a no-show after the slot has started keeps its place counted: nothing is released', async () => {
    const missed = await booking('confirmed', { inHours: -1 });
    const res = await set(missed.id, 'no_show');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'no_show');
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: missed.slotId } })).booked, 1);
    assert.deepEqual((await published('booking-events')).map((e) => e.type), ['com.medlab.booking.status-changed']);
  });

  it('nobody is a no-show before their slot starts: 409 naming status', async () => {
    const upcoming = await booking('confirmed');
    const res = await set(upcoming.id, 'no_show');
    assert.equal(res.status, 409);
    assert.equal(res.body['invalid-params'][0].name, 'body/status');
    assert.equal(await statusOf(upcoming.id), 'confirmed');
  });

  it('moves a booking may not make are a 409 and change nothing', async () => {
    const moves: Array<[BookingStatus, string]> = [
      ['confirmed', 'confirmed'], ['pending', 'completed'], ['confirmed', 'completed'], ['cancelled', 'confirmed'], ['completed', 'no_show'], ['no_show', 'completed'],
    ];
    for (const [i, [from, to]] of moves.entries()) {
      const b = await booking(from, { inHours: -1 - i });
      const res = await set(b.id, to);
      assert.equal(res.status, 409, `${from} → ${to}`);
      assert.match(res.body.detail, new RegExp(`a ${from} booking cannot become ${to}`));
      assert.equal(await statusOf(b.id), from);
    }
    assert.deepEqual(await published('booking-events'), []);
  });

  it('staff change bookings at their own branch only; patients never; a token is required', async () => {
    const b = await booking('pending');
    assert.equal((await set(b.id, 'confirmed', staffToken(OTHER_BRANCH))).status, 404);
    assert.equal((await set(b.id, 'confirmed', patientToken('p-1'))).status, 403);
    assert.equal((await call(fn.url, { body: { bookingId: b.id, status: 'confirmed' } })).status, 401);
    assert.equal(await statusOf(b.id), 'pending');
    const elsewhere = await booking('pending', { branchId: OTHER_BRANCH });
    assert.equal((await set(elsewhere.id, 'confirmed', token('staff', 'roaming-nurse'))).status, 200);
  });

  it('an unknown booking is a 404 naming bookingId; bad input a 400 naming the field', async () => {
    const missing = await set(MISSING, 'confirmed');
    assert.equal(missing.status, 404);
    assert.equal(missing.body['invalid-params'][0].name, 'body/bookingId');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ bookingId: MISSING, status: 'cancelled' }, 'body/status'],
      [{ bookingId: MISSING, status: 'checked_in' }, 'body/status'],
      [{ bookingId: MISSING }, 'body/status'],
      [{ bookingId: 42, status: 'confirmed' }, 'body/bookingId'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });
});
