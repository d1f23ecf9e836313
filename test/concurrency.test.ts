import { strict as assert } from 'node:assert';
import * as bookSlot from '../functions/booking-queue/book-slot/index';
import { db, isUniqueViolation } from '../functions/shared/db';
import { DAILY_LIMIT } from '../functions/booking-queue/domain';
import { resetDatabase, seedCatalogue, createSlot, hoursFromNow, startFunction, call, patientToken, published, type RunningFunction } from './support/fixtures';

describe('capacity under contention (real HTTP, real PostgreSQL)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(bookSlot); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('300 patients racing for a slot of 7 places: exactly 7 bookings, 293 clean 409s, never over capacity', async () => {
    const slot = await createSlot({ capacity: 7 });
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) =>
      call(fn.url, { token: patientToken(`racer-${i}`), body: { slotId: slot.id } })));
    const byStatus = answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
    assert.deepEqual(byStatus, { 201: 7, 409: 293 });
    const after = await db().slot.findUniqueOrThrow({ where: { id: slot.id } });
    assert.equal(after.booked, 7);
    assert.equal(await db().booking.count({ where: { slotId: slot.id } }), 7);
    const allocated = (await published('booking-events')).filter((e) => e.type === 'com.medlab.slot.allocated');
    assert.equal(allocated.length, 7, 'one slot.allocated per booking, none for the refused');
    assert.deepEqual(allocated.map((e) => e.data.booked).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('a full slot refuses 50 simultaneous late bookers and stays at capacity', async () => {
    const slot = await createSlot({ capacity: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await call(fn.url, { token: patientToken(`first-${i}`), body: { slotId: slot.id } })).status, 201);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => call(fn.url, { token: patientToken(`late-${i}`), body: { slotId: slot.id } })));
    assert.ok(answers.every((a) => a.status === 409));
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 3);
  });
});

describe('a patient cannot hoard places (enforced by the database, under races)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(bookSlot); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('20 simultaneous bookings by one patient in one slot: exactly one place is taken', async () => {
    const slot = await createSlot({ capacity: 20 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(fn.url, { token: patientToken('hoarder'), body: { slotId: slot.id } })));
    const byStatus = answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
    assert.deepEqual(byStatus, { 201: 1, 409: 19 });
    assert.ok(answers.filter((a) => a.status === 409).every((a) => a.body['invalid-params'][0].name === 'body/slotId'));
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    assert.equal(await db().booking.count({ where: { slotId: slot.id } }), 1);
  });

  it(`simultaneous bookings by one patient across many slots of one branch and day stop at the daily limit (${DAILY_LIMIT})`, async () => {
    const day = hoursFromNow(48);
    const slots = await Promise.all(Array.from({ length: 12 }, (_, i) => createSlot({ startsAt: new Date(day.getTime() + i * 5 * 60_000), capacity: 5 })));
    const answers = await Promise.all(slots.map((s) => call(fn.url, { token: patientToken('hoarder'), body: { slotId: s.id } })));
    assert.equal(answers.filter((a) => a.status === 201).length, DAILY_LIMIT);
    assert.equal(answers.filter((a) => a.status === 409).length, slots.length - DAILY_LIMIT);
    assert.equal(await db().booking.count({ where: { patientId: 'hoarder' } }), DAILY_LIMIT);
    // Another patient is not held back by the first one's limit.
    assert.equal((await call(fn.url, { token: patientToken('neighbour'), body: { slotId: slots[0].id } })).status, 201);
  });

  it('the database itself refuses a second active booking of a patient in a slot, and allows one after cancelling', async () => {
    const slot = await createSlot({ capacity: 5 });
    const first = await db().booking.create({ data: { slotId: slot.id, patientId: 'p-db', status: 'confirmed' } });
    const second = db().booking.create({ data: { slotId: slot.id, patientId: 'p-db', status: 'pending' } });
    await assert.rejects(second, /booking_one_active_per_patient_slot|Unique constraint/);
    // The kit tells this index's violation from any other (book-slot answers it as a 409 on slotId).
    const err = await second.catch((e: unknown) => e);
    assert.ok(isUniqueViolation(err, 'booking_one_active_per_patient_slot'));
    assert.ok(!isUniqueViolation(err, 'slot_branch_id_service_id_starts_at_key'));
    await db().booking.update({ where: { id: first.id }, data: { status: 'cancelled' } });
    await db().booking.create({ data: { slotId: slot.id, patientId: 'p-db', status: 'confirmed' } });
  });
});
