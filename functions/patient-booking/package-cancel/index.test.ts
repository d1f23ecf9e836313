import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import * as consumer from '../package-booking-consumer/index';
import { db } from '../../shared/db';
import { startFunction, call, deliver, resetDatabase, published, patientToken, staffToken, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { placeBooking, queueFacts, confirmedEvent } from '../../../test/support/package-bookings';

describe('package-cancel (POST /api/package-bookings/cancel)', () => {
  let running: RunningFunction;
  let following: RunningFunction;
  before(async () => { [running, following] = await Promise.all([startFunction(fn), startFunction(consumer)]); });
  after(async () => { await running.close(); await following.close(); });
  beforeEach(resetDatabase);

  const cancel = (bookingId: string, tok = patientToken('p-1')) => call(running.url, { body: { bookingId }, token: tok });
  const cancelRequests = async () => (await published('booking-requests')).filter((e) => e.type === 'com.medlab.booking.cancel-requested').map((e) => e.data);
  const stored = (id: string) => db().packageBooking.findUniqueOrThrow({ where: { id } });

  it('a confirmed booking: cancel_requested, and the queue is asked to cancel its booking; asked twice, asked once', async () => {
    const booking = await placeBooking();
    const res = await cancel(booking.id);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.status, 'cancel_requested');
    assert.equal((await cancel(booking.id)).status, 202);
    assert.deepEqual(await cancelRequests(), [{ bookingId: booking.queueBookingId, patientId: 'p-1' }]);
  });

  it('cancelled before the queue answered: nothing to name yet; when the confirmation arrives the cancel request goes then, and no confirmation notice', async () => {
    const booking = await placeBooking({ status: 'requested' });
    assert.equal((await cancel(booking.id)).body.status, 'cancel_requested');
    assert.deepEqual(await cancelRequests(), []);

    const queueBookingId = randomUUID();
    assert.equal((await deliver(following.url, confirmedEvent(booking, { queueBookingId }))).status, 200);
    assert.deepEqual(await cancelRequests(), [{ bookingId: queueBookingId, patientId: 'p-1' }]);
    assert.equal((await stored(booking.id)).status, 'cancel_requested');
    assert.deepEqual(await published('notification-requests'), []);
    // The confirmation again (a redelivery under a new id) asks nothing more.
    await deliver(following.url, confirmedEvent(booking, { queueBookingId }));
    assert.equal((await cancelRequests()).length, 1);

    await deliver(following.url, { type: 'com.medlab.booking.cancelled', data: { ...queueFacts(booking, { queueBookingId, status: 'cancelled' }), cancelledBy: 'service' } });
    assert.equal((await stored(booking.id)).status, 'cancelled');
  });

  it('cancelled before the queue said no: cancelled, nothing asked, nothing told', async () => {
    const booking = await placeBooking({ status: 'requested' });
    await cancel(booking.id);
    await deliver(following.url, { type: 'com.medlab.booking.rejected', data: { requestId: booking.id, patientId: 'p-1', slotId: booking.slotId, reason: 'slot-full' } });
    assert.equal((await stored(booking.id)).status, 'cancelled');
    assert.deepEqual(await published('booking-requests'), []);
    assert.deepEqual(await published('notification-requests'), []);
  });

  it('a booking that has begun or ended cannot be cancelled: 409 naming body/bookingId', async () => {
    for (const status of ['checked_in', 'completed', 'no_show', 'rejected', 'cancelled'] as const) {
      const booking = await placeBooking({ status });
      const res = await cancel(booking.id);
      assert.equal(res.status, 409, status);
      assert.equal(res.body['invalid-params'][0].name, 'body/bookingId');
      assert.equal((await stored(booking.id)).status, status);
    }
    assert.deepEqual(await cancelRequests(), []);
  });

  it('another patient\'s booking, or staff of another branch: 404 as for none at all; staff of its branch may', async () => {
    const booking = await placeBooking();
    assert.equal((await cancel(booking.id, patientToken('p-2'))).status, 404);
    assert.equal((await cancel(booking.id, staffToken(OTHER_BRANCH))).status, 404);
    assert.equal((await cancel(randomUUID())).status, 404);
    assert.equal((await cancel(booking.id, staffToken())).status, 202);
  });
});
