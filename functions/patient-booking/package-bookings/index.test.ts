import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, resetDatabase, patientToken, staffToken, token, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { placeBooking } from '../../../test/support/package-bookings';

describe('package-bookings (GET /api/package-bookings)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  const list = (query: Record<string, string>, tok: string) => call(running.url, { query, token: tok });

  it('a patient sees their own bookings, newest first, and none of anyone else\'s', async () => {
    const older = await placeBooking({ createdAt: new Date('2030-01-01T00:00:00Z') });
    const newer = await placeBooking({ status: 'requested', createdAt: new Date('2030-01-02T00:00:00Z') });
    await placeBooking({ patientId: 'p-2' });
    const res = await list({}, patientToken('p-1'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.bookings.map((b: { bookingId: string }) => b.bookingId), [newer.id, older.id]);
    assert.deepEqual(res.body.bookings.map((b: { status: string }) => b.status), ['requested', 'confirmed']);
    assert.equal(res.body.bookings[1].branchId, older.branchId);
    const asked = await list({ patientId: 'p-2' }, patientToken('p-1'));
    assert.equal(asked.status, 403);
    assert.equal(asked.body['invalid-params'][0].name, 'query/patientId');
  });

  it('staff name the patient and see their bookings at the staff\'s branch and those not placed yet; services see all', async () => {
    const here = await placeBooking();
    const elsewhere = await placeBooking({ branchId: OTHER_BRANCH });
    const unplaced = await placeBooking({ status: 'requested' });
    const unnamed = await list({}, staffToken());
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.body['invalid-params'][0].name, 'query/patientId');
    const byStaff = await list({ patientId: 'p-1' }, staffToken());
    assert.deepEqual(byStaff.body.bookings.map((b: { bookingId: string }) => b.bookingId).sort(), [here.id, unplaced.id].sort());
    const byService = await list({ patientId: 'p-1', status: 'confirmed' }, token('service', 'crm'));
    assert.deepEqual(byService.body.bookings.map((b: { bookingId: string }) => b.bookingId).sort(), [here.id, elsewhere.id].sort());
  });
});
