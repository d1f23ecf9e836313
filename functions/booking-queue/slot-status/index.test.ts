import { strict as assert } from 'node:assert';
import * as slotStatus from './index';
import * as bookSlot from '../book-slot/index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

describe('slot-status (POST /api/slots/status)', () => {
  let fn: RunningFunction;
  let booking: RunningFunction;
  before(async () => { [fn, booking] = await Promise.all([startFunction(slotStatus), startFunction(bookSlot)]); });
  after(async () => { await fn.close(); await booking.close(); });
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const book = (slotId: string, patientId: string) => call(booking.url, { token: patientToken(patientId), body: { slotId } });

  it('closing a slot stops new bookings but keeps the patients already booked', async () => {
    const slot = await createSlot({ capacity: 3 });
    const kept = await book(slot.id, 'p-1');
    const res = await call(fn.url, { token: staffToken(), body: { slotId: slot.id, status: 'closed' } });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.slotId, res.body.status, res.body.booked, res.body.capacity], [slot.id, 'closed', 1, 3]);
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: kept.body.bookingId } })).status, 'confirmed');
    const refused = await book(slot.id, 'p-2');
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /closed/);
  });

  it('opening a closed slot takes bookings again', async () => {
    const slot = await createSlot({ status: 'closed' });
    const res = await call(fn.url, { token: token('service', 'scheduler'), body: { slotId: slot.id, status: 'open' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'open');
    assert.equal((await book(slot.id, 'p-1')).status, 201);
  });

  it('setting the status a slot already has is harmless', async () => {
    const slot = await createSlot();
    const res = await call(fn.url, { token: staffToken(), body: { slotId: slot.id, status: 'open' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'open');
  });

  it('an unknown slot is a 404 naming slotId; bad input a 400 naming the field', async () => {
    const missing = await call(fn.url, { token: staffToken(), body: { slotId: '00000000-0000-4000-8000-000000000000', status: 'closed' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body['invalid-params'][0].name, 'body/slotId');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ slotId: 'slot-1', status: 'closed' }, 'body/slotId'],
      [{ status: 'closed' }, 'body/slotId'],
      [{ slotId: '00000000-0000-4000-8000-000000000000', status: 'cancelled' }, 'body/status'],
      [{ slotId: '00000000-0000-4000-8000-000000000000' }, 'body/status'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('staff change slots at their own branch only; patients never; a token is required', async () => {
    const slot = await createSlot();
    const body = { slotId: slot.id, status: 'closed' };
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken(), body })).status, 403);
    assert.equal((await call(fn.url, { body })).status, 401);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).status, 'open');
  });
});
