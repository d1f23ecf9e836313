import { strict as assert } from 'node:assert';
import * as bookingReschedule from './index';
import * as bookSlot from '../book-slot/index';
import { db } from '../../shared/db';
import { memoryBus } from '../../../scripts/lib/laptop/memory-bus';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, hoursFromNow, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('booking-reschedule (POST /api/bookings/reschedule)', () => {
  let fn: RunningFunction;
  let booking: RunningFunction;
  before(async () => { [fn, booking] = await Promise.all([startFunction(bookingReschedule), startFunction(bookSlot)]); });
  after(async () => { await fn.close(); await booking.close(); });
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const book = async (slotId: string, patientId = 'p-1') => (await call(booking.url, { token: patientToken(patientId), body: { slotId } })).body.bookingId as string;
  const booked = async (slotId: string) => (await db().slot.findUniqueOrThrow({ where: { id: slotId } })).booked;
  const slotOf = async (bookingId: string) => (await db().booking.findUniqueOrThrow({ where: { id: bookingId } })).slotId;
  const move = (bookingId: string, slotId: string, who = patientToken('p-1')) => call(fn.url, { token: who, body: { bookingId, slotId } });

  it('moves a booking: the new place is taken, the old one freed, and the three events go out', async () => {
    const from = await createSlot({ startsAt: hoursFromNow(30), capacity: 2 });
    const to = await createSlot({ startsAt: hoursFromNow(50), capacity: 2 });
    const bookingId = await book(from.id);
    await published('booking-events');
    memoryBus.clear();

    const res = await move(bookingId, to.id);
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.bookingId, res.body.slotId, res.body.startsAt, res.body.status], [bookingId, to.id, to.startsAt.toISOString(), 'confirmed']);
    assert.deepEqual([await booked(from.id), await booked(to.id)], [0, 1]);

    const events = await published('booking-events');
    const data = (type: string) => events.find((e) => e.type === type)?.data;
    assert.deepEqual(events.map((e) => [e.type, e.key]).sort(), [
      ['com.medlab.booking.rescheduled', bookingId],
      ['com.medlab.slot.allocated', to.id],
      ['com.medlab.slot.released', from.id],
    ]);
    const rescheduled = data('com.medlab.booking.rescheduled');
    assert.deepEqual([rescheduled.slotId, rescheduled.startsAt, rescheduled.previousSlotId, rescheduled.previousStartsAt], [to.id, to.startsAt.toISOString(), from.id, from.startsAt.toISOString()]);
    assert.deepEqual(data('com.medlab.slot.released'), { slotId: from.id, bookingId, booked: 0, capacity: 2 });
    assert.deepEqual(data('com.medlab.slot.allocated'), { slotId: to.id, bookingId, booked: 1, capacity: 2 });
  });

  it('a full new slot is a 409 naming slotId, and the patient keeps their old place', async () => {
    const from = await createSlot();
    const full = await createSlot({ capacity: 1 });
    const bookingId = await book(from.id);
    await book(full.id, 'p-2');
    const res = await move(bookingId, full.id);
    assert.equal(res.status, 409);
    assert.equal(res.body['invalid-params'][0].name, 'body/slotId');
    assert.equal(await slotOf(bookingId), from.id);
    assert.deepEqual([await booked(from.id), await booked(full.id)], [1, 1]);
    assert.ok(!(await published('booking-events')).some((e) => e.type === 'com.medlab.booking.rescheduled'));
  });

  it('closed and started slots are a 409, a missing one a 404, all naming slotId', async () => {
    const bookingId = await book((await createSlot()).id);
    const closed = await createSlot({ status: 'closed' });
    const started = await createSlot({ startsAt: hoursFromNow(-1) });
    for (const [slotId, status, detail] of [[closed.id, 409, /closed/], [started.id, 409, /already started/], [MISSING, 404, /no such slot/]] as const) {
      const res = await move(bookingId, slotId);
      assert.equal(res.status, status, slotId);
      assert.match(res.body.detail, detail);
      assert.equal(res.body['invalid-params'][0].name, 'body/slotId');
    }
  });

  it('moves only to another slot of the same service at the same branch (409 naming slotId)', async () => {
    const from = await createSlot();
    const bookingId = await book(from.id);
    for (const slot of [await createSlot({ serviceId: 'check-up' }), await createSlot({ branchId: OTHER_BRANCH }), from]) {
      const res = await move(bookingId, slot.id, token('service', 'crm'));
      assert.equal(res.status, 409);
      assert.equal(res.body['invalid-params'][0].name, 'body/slotId');
    }
    assert.equal(await booked(from.id), 1);
  });

  it('a pending booking moves and stays pending; a cancelled, checked-in or completed one cannot move (409)', async () => {
    const pending = await book((await createSlot({ serviceId: 'check-up' })).id);
    const moved = await move(pending, (await createSlot({ serviceId: 'check-up' })).id);
    assert.deepEqual([moved.status, moved.body.status], [200, 'pending']);
    for (const status of ['cancelled', 'checked_in', 'completed'] as const) {
      const bookingId = await book((await createSlot()).id);
      await db().booking.update({ where: { id: bookingId }, data: { status } });
      const res = await move(bookingId, (await createSlot()).id);
      assert.equal(res.status, 409, status);
      assert.equal(res.body['invalid-params'][0].name, 'body/bookingId');
    }
  });

  it('two patients swapping slots at the same moment both get moved', async () => {
    const a = await createSlot({ capacity: 2 });
    const b = await createSlot({ capacity: 2 });
    const first = await book(a.id, 'p-1');
    const second = await book(b.id, 'p-2');
    for (let round = 0; round < 4; round++) {
      const [x, y] = await Promise.all([
        move(first, round % 2 ? a.id : b.id, patientToken('p-1')),
        move(second, round % 2 ? b.id : a.id, patientToken('p-2')),
      ]);
      assert.deepEqual([x.status, y.status], [200, 200], JSON.stringify([x.body, y.body]));
    }
    assert.deepEqual([await slotOf(first), await slotOf(second), await booked(a.id), await booked(b.id)], [a.id, b.id, 1, 1]);
  });

  it('another patient\'s booking is a 404; staff move bookings at their branch only', async () => {
    const bookingId = await book((await createSlot()).id, 'p-2');
    const to = await createSlot();
    const notYours = await move(bookingId, to.id, patientToken('p-1'));
    assert.equal(notYours.status, 404);
    assert.equal(notYours.body['invalid-params'][0].name, 'body/bookingId');
    assert.equal((await move(bookingId, to.id, staffToken(OTHER_BRANCH))).status, 404);
    assert.equal((await move(bookingId, to.id, staffToken())).status, 200);
  });

  it('answers bad input with 400 problem+json naming the field, and needs a token', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ slotId: MISSING }, 'body/bookingId'],
      [{ bookingId: MISSING }, 'body/slotId'],
      [{ bookingId: MISSING, slotId: 'tomorrow' }, 'body/slotId'],
      [{ bookingId: MISSING, slotId: MISSING, startsAt: '2026-12-01T09:00:00Z' }, 'body/startsAt'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: patientToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { body: { bookingId: MISSING, slotId: MISSING } })).status, 401);
  });
});
