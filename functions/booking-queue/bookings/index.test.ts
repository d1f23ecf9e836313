import { strict as assert } from 'node:assert';
import * as bookings from './index';
import { db } from '../../shared/db';
import type { BookingStatus } from '../domain';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

const MISSING = '00000000-0000-4000-8000-000000000000';
const ids = (res: { body: { bookings: { bookingId: string }[] } }) => res.body.bookings.map((b) => b.bookingId);

describe('bookings (GET /api/bookings)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(bookings); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  let minute = 0;
  /** A booking made `minute` minutes after the previous one, so "newest first" has a defined order. */
  async function booked(patientId: string, opts: { status?: BookingStatus; branchId?: string } = {}) {
    const slot = await createSlot({ branchId: opts.branchId });
    return db().booking.create({
      data: { slotId: slot.id, patientId, status: opts.status ?? 'confirmed', createdAt: new Date(Date.UTC(2026, 10, 1, 8, minute++)) },
    });
  }

  it('a patient sees their own bookings, newest first, and nobody else\'s', async () => {
    const older = await booked('p-1');
    await booked('p-2');
    const newer = await booked('p-1', { status: 'cancelled', branchId: OTHER_BRANCH });
    const res = await call(fn.url, { token: patientToken('p-1') });
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res), [newer.id, older.id]);
    const [view] = res.body.bookings;
    assert.deepEqual([view.patientId, view.status, view.branchId, view.serviceId], ['p-1', 'cancelled', OTHER_BRANCH, 'blood-draw']);
    assert.ok(view.startsAt && view.endsAt && view.slotId);
  });

  it('status and limit narrow the list', async () => {
    const first = await booked('p-1');
    await booked('p-1', { status: 'cancelled' });
    const third = await booked('p-1');
    assert.deepEqual(ids(await call(fn.url, { token: patientToken('p-1'), query: { status: 'confirmed' } })), [third.id, first.id]);
    assert.deepEqual(ids(await call(fn.url, { token: patientToken('p-1'), query: { limit: '1' } })), [third.id]);
  });

  it('lists at most 20 bookings unless asked for more', async () => {
    for (let i = 0; i < 22; i++) await booked('p-1');
    assert.equal((await call(fn.url, { token: patientToken('p-1') })).body.bookings.length, 20);
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { limit: '100' } })).body.bookings.length, 22);
  });

  it('bookingId answers with that one booking', async () => {
    const mine = await booked('p-1');
    const res = await call(fn.url, { token: patientToken('p-1'), query: { bookingId: mine.id } });
    assert.equal(res.status, 200);
    assert.equal(res.body.bookingId, mine.id);
    assert.equal(res.body.status, 'confirmed');
  });

  it('another patient\'s booking is a 404 for a patient, as if it did not exist', async () => {
    const theirs = await booked('p-2');
    const res = await call(fn.url, { token: patientToken('p-1'), query: { bookingId: theirs.id } });
    assert.equal(res.status, 404);
    assert.equal(res.body['invalid-params'][0].name, 'query/bookingId');
    const missing = await call(fn.url, { token: patientToken('p-1'), query: { bookingId: MISSING } });
    assert.deepEqual([missing.status, missing.body.detail], [404, res.body.detail]);
  });

  it('a patient asking for another patient\'s list is refused with 403', async () => {
    await booked('p-2');
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { patientId: 'p-2' } })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { patientId: 'p-1' } })).status, 200);
  });

  it('staff look up a patient\'s bookings at their own branch only', async () => {
    const here = await booked('p-1');
    const there = await booked('p-1', { branchId: OTHER_BRANCH });
    assert.deepEqual(ids(await call(fn.url, { token: staffToken(), query: { patientId: 'p-1' } })), [here.id]);
    assert.equal((await call(fn.url, { token: staffToken(), query: { bookingId: here.id } })).body.bookingId, here.id);
    const elsewhere = await call(fn.url, { token: staffToken(), query: { bookingId: there.id } });
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(ids(await call(fn.url, { token: token('staff', 'roaming-nurse'), query: { patientId: 'p-1' } })), [there.id, here.id]);
  });

  it('staff must say whose bookings: without bookingId or patientId it is a 400 naming patientId', async () => {
    await booked('p-1');
    const res = await call(fn.url, { token: staffToken() });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'query/patientId');
  });

  it('services see any booking at any branch', async () => {
    const a = await booked('p-1');
    const b = await booked('p-2', { branchId: OTHER_BRANCH });
    const service = token('service', 'crm');
    assert.deepEqual(ids(await call(fn.url, { token: service })), [b.id, a.id]);
    assert.deepEqual(ids(await call(fn.url, { token: service, query: { patientId: 'p-2' } })), [b.id]);
    assert.equal((await call(fn.url, { token: service, query: { bookingId: b.id } })).body.patientId, 'p-2');
  });

  it('answers bad input with 400 problem+json naming the field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: '0' }, 'query/limit'],
      [{ limit: '101' }, 'query/limit'],
      [{ limit: 'ten' }, 'query/limit'],
      [{ status: 'booked' }, 'query/status'],
      [{ bookingId: 'b-1' }, 'query/bookingId'],
      [{ branchId: BRANCH }, 'query/branchId'],
    ];
    for (const [query, field] of cases) {
      const res = await call(fn.url, { token: patientToken('p-1'), query });
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('needs a token: 401 without one', async () => {
    const res = await call(fn.url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });
});
