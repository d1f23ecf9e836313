import { strict as assert } from 'node:assert';
import * as bookSlot from '../functions/booking-queue/book-slot/index';
import { db } from '../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, published, type RunningFunction } from './support/fixtures';

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
