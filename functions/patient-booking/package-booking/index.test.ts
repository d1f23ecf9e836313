import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { startFunction, call, resetDatabase, patientToken, staffToken, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { placeBooking } from '../../../test/support/package-bookings';

describe('package-booking (GET /api/package-bookings/detail)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  const detail = (bookingId: string, tok: string) => call(running.url, { query: { bookingId }, token: tok });

  it('the patient reads their booking with where and when the queue placed it', async () => {
    const booking = await placeBooking();
    const res = await detail(booking.id, patientToken('p-1'));
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.bookingId, res.body.status, res.body.branchId, res.body.startsAt, res.body.queueBookingId],
      [booking.id, 'confirmed', booking.branchId, '2030-03-04T02:30:00.000Z', booking.queueBookingId]);
  });

  it('another patient\'s booking, staff of another branch and a booking that does not exist all answer 404 alike', async () => {
    const booking = await placeBooking();
    for (const [id, tok] of [[booking.id, patientToken('p-2')], [booking.id, staffToken(OTHER_BRANCH)], [randomUUID(), patientToken('p-1')]]) {
      const res = await detail(id, tok);
      assert.equal(res.status, 404);
      assert.equal(res.body['invalid-params'][0].name, 'query/bookingId');
    }
    assert.equal((await detail(booking.id, staffToken())).status, 200);
  });
});
