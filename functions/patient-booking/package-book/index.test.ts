import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, published, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';
import { seedPackage, PACKAGE } from '../../../test/support/package-bookings';

describe('package-book (POST /api/package-bookings)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(async () => { await resetDatabase(); await seedPackage(); });

  const book = (body: Record<string, unknown>, tok = patientToken('p-1'), headers: Record<string, string> = {}) => call(running.url, { body, token: tok, headers });

  it('asks the booking queue for the slot with booking.requested (requestId = the booking\'s id) and answers 202 with where to poll', async () => {
    const slotId = randomUUID();
    const res = await book({ packageCode: PACKAGE, slotId });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual([res.body.status, res.body.patientId, res.body.packageCode, res.body.packageVersion, res.body.priceVnd, res.body.slotId, res.body.serviceId],
      ['requested', 'p-1', PACKAGE, 3, 450_000, slotId, 'blood-draw']);
    assert.equal(res.headers.get('location'), `/api/package-bookings/detail?bookingId=${res.body.bookingId}`);
    const requests = await published('booking-requests');
    assert.deepEqual(requests, [{ type: 'com.medlab.booking.requested', key: 'p-1', data: { requestId: res.body.bookingId, patientId: 'p-1', slotId, channel: 'patient-booking' } }]);
  });

  it('keeps the package\'s version and price as they were when booked', async () => {
    const res = await book({ packageCode: PACKAGE, slotId: randomUUID() });
    await db().cataloguePackage.update({ where: { code: PACKAGE }, data: { version: 4n, priceVnd: 520_000n } });
    const stored = await db().packageBooking.findUniqueOrThrow({ where: { id: res.body.bookingId } });
    assert.deepEqual([stored.packageVersion, stored.priceVnd], [3n, 450_000n]);
  });

  it('a withdrawn package is refused with 409 naming body/packageCode; an unknown one 404; nothing is asked of the queue', async () => {
    await seedPackage({ code: 'old-panel', withdrawn: true });
    const withdrawn = await book({ packageCode: 'old-panel', slotId: randomUUID() });
    assert.equal(withdrawn.status, 409);
    assert.equal(withdrawn.body['invalid-params'][0].name, 'body/packageCode');
    const unknown = await book({ packageCode: 'lottery', slotId: randomUUID() });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['invalid-params'][0].name, 'body/packageCode');
    assert.equal(await db().packageBooking.count(), 0);
    assert.deepEqual(await published('booking-requests'), []);
  });

  it('a retry with the same Idempotency-Key gets the first answer again and books once; the key with another body is 422', async () => {
    const body = { packageCode: PACKAGE, slotId: randomUUID() };
    const first = await book(body, patientToken('p-1'), { 'idempotency-key': 'pkg-1' });
    const again = await book(body, patientToken('p-1'), { 'idempotency-key': 'pkg-1' });
    assert.equal(again.status, 202);
    assert.equal(again.body.bookingId, first.body.bookingId);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    const other = await book({ ...body, slotId: randomUUID() }, patientToken('p-1'), { 'idempotency-key': 'pkg-1' });
    assert.equal(other.status, 422);
    assert.equal(await db().packageBooking.count(), 1);
    assert.equal((await published('booking-requests')).length, 1);
  });

  it('patients book for themselves only; staff and services name the patient', async () => {
    const slotId = randomUUID();
    const forOther = await book({ packageCode: PACKAGE, slotId, patientId: 'p-2' });
    assert.equal(forOther.status, 403);
    assert.equal(forOther.body['invalid-params'][0].name, 'body/patientId');
    const unnamed = await book({ packageCode: PACKAGE, slotId }, staffToken());
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.body['invalid-params'][0].name, 'body/patientId');
    const byStaff = await book({ packageCode: PACKAGE, slotId, patientId: 'p-2' }, staffToken());
    assert.equal(byStaff.status, 202);
    assert.equal(byStaff.body.patientId, 'p-2');
    const byService = await book({ packageCode: PACKAGE, slotId, patientId: 'p-3' }, token('service', 'crm'));
    assert.equal(byService.body.patientId, 'p-3');
  });

  it('names a malformed slot id in a problem+json 400', async () => {
    const res = await book({ packageCode: PACKAGE, slotId: 'tomorrow at nine' });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'body/slotId');
  });
});
