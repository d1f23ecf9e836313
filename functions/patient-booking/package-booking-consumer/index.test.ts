import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, published, BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { placeBooking, queueFacts, confirmedEvent } from '../../../test/support/package-bookings';

describe('package-booking-consumer (KafkaSource on booking-events)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  const send = (event: { type: string; data: unknown; id?: string }) => deliver(running.url, event);
  const stored = (id: string) => db().packageBooking.findUniqueOrThrow({ where: { id } });
  const notices = async () => (await published('notification-requests')).map((e) => e.data);

  it('confirmed: the booking takes the queue\'s booking, branch and time, and the patient is told in the branch\'s local time', async () => {
    const booking = await placeBooking({ status: 'requested' });
    const queueBookingId = randomUUID();
    // 02:30 UTC is 09:30 in Ho Chi Minh City.
    const res = await send(confirmedEvent(booking, { queueBookingId, startsAt: '2030-03-04T02:30:00.000Z' }));
    assert.equal(res.status, 200);
    const now = await stored(booking.id);
    assert.deepEqual([now.status, now.queueBookingId, now.branchId, now.startsAt?.toISOString()], ['confirmed', queueBookingId, BRANCH, '2030-03-04T02:30:00.000Z']);
    const [notice] = await notices();
    assert.deepEqual([notice.template, notice.category, notice.recipient, notice.requestId], ['booking-confirmed', 'booking', { kind: 'patient', patientId: 'p-1' }, `package-booking:${booking.id}:booking-confirmed`]);
    assert.deepEqual([notice.variables.localTime, notice.variables.localDate, notice.variables.link], ['09:30', '2030-03-04', `/package-bookings/${booking.id}`]);
    // Ids and times only: not the package, which can say what is tested.
    assert.ok(!JSON.stringify(notice).includes('basic-blood'));
  });

  it('the same answer again under a new event id changes nothing and tells the patient once', async () => {
    const booking = await placeBooking({ status: 'requested' });
    const event = confirmedEvent(booking, { queueBookingId: randomUUID() });
    await send(event);
    assert.equal((await send({ ...event, id: randomUUID() })).body.result.unchanged, 'confirmed');
    assert.equal((await notices()).length, 1);
  });

  it('rejected: the booking is rejected with the queue\'s reason and the patient is told', async () => {
    const booking = await placeBooking({ status: 'requested' });
    await send({ type: 'com.medlab.booking.rejected', data: { requestId: booking.id, patientId: 'p-1', slotId: booking.slotId, reason: 'slot-full' } });
    const now = await stored(booking.id);
    assert.deepEqual([now.status, now.rejectReason], ['rejected', 'slot-full']);
    const [notice] = await notices();
    assert.deepEqual([notice.template, notice.variables.reason], ['booking-rejected', 'slot-full']);
  });

  it('pending until staff confirm: no notice while pending, the confirmation notice when status-changed says confirmed', async () => {
    const booking = await placeBooking({ status: 'requested' });
    const queueBookingId = randomUUID();
    await send({ type: 'com.medlab.booking.pending', data: { ...queueFacts(booking, { queueBookingId, status: 'pending' }), requestId: booking.id } });
    assert.equal((await stored(booking.id)).status, 'pending');
    assert.deepEqual(await notices(), []);
    await send({ type: 'com.medlab.booking.status-changed', data: { ...queueFacts(booking, { queueBookingId }), previousStatus: 'pending' } });
    assert.equal((await stored(booking.id)).status, 'confirmed');
    assert.deepEqual((await notices()).map((n) => n.template), ['booking-confirmed']);
  });

  it('follows the visit by the queue\'s booking id: rescheduled (new time), checked in, completed; or cancelled', async () => {
    const booking = await placeBooking();
    const facts = queueFacts(booking);
    await send({ type: 'com.medlab.booking.rescheduled', data: { ...facts, slotId: randomUUID(), startsAt: '2030-03-05T03:00:00.000Z', previousSlotId: booking.slotId, previousStartsAt: facts.startsAt } });
    assert.equal((await stored(booking.id)).startsAt?.toISOString(), '2030-03-05T03:00:00.000Z');
    await send({ type: 'com.medlab.booking.status-changed', data: { ...facts, status: 'checked_in', previousStatus: 'confirmed' } });
    assert.equal((await stored(booking.id)).status, 'checked_in');
    await send({ type: 'com.medlab.booking.status-changed', data: { ...facts, status: 'completed', previousStatus: 'checked_in' } });
    assert.equal((await stored(booking.id)).status, 'completed');

    const other = await placeBooking();
    await send({ type: 'com.medlab.booking.cancelled', data: { ...queueFacts(other), status: 'cancelled', reason: null, cancelledBy: 'staff' } });
    assert.equal((await stored(other.id)).status, 'cancelled');
  });

  it('a status never moves backwards: a late confirmed after checked_in, or checked_in after completed, changes nothing', async () => {
    const booking = await placeBooking({ status: 'checked_in' });
    await send(confirmedEvent(booking));
    assert.equal((await stored(booking.id)).status, 'checked_in');
    await send({ type: 'com.medlab.booking.status-changed', data: { ...queueFacts(booking, { status: 'completed' }), previousStatus: 'checked_in' } });
    await send({ type: 'com.medlab.booking.status-changed', data: { ...queueFacts(booking, { status: 'checked_in' }), previousStatus: 'confirmed' } });
    assert.equal((await stored(booking.id)).status, 'completed');
    assert.deepEqual(await notices(), []);
  });

  it('bookings that are not package bookings, and slot news, are answered 200 and change nothing', async () => {
    const booking = await placeBooking({ status: 'requested' });
    const stranger = { id: randomUUID(), patientId: 'p-9', slotId: randomUUID() };
    const events = [
      // The portal's own booking form (a requestId that is no uuid), a request of another system, none at all.
      { type: 'com.medlab.booking.confirmed', data: { ...queueFacts(stranger), requestId: 'portal-42' } },
      confirmedEvent(stranger),
      { type: 'com.medlab.booking.confirmed', data: queueFacts(stranger) },
      // Our id, another patient: not ours either.
      confirmedEvent({ ...booking, patientId: 'p-9' }),
      { type: 'com.medlab.booking.rejected', data: { requestId: randomUUID(), patientId: 'p-9', slotId: stranger.slotId, reason: 'slot-full' } },
      { type: 'com.medlab.booking.cancelled', data: { ...queueFacts(stranger), status: 'cancelled', cancelledBy: 'patient' } },
      { type: 'com.medlab.booking.status-changed', data: { ...queueFacts(stranger, { status: 'checked_in' }), previousStatus: 'confirmed' } },
      { type: 'com.medlab.slot.allocated', data: { slotId: stranger.slotId, bookingId: randomUUID(), booked: 1, capacity: 5 } },
    ];
    for (const event of events) assert.equal((await send(event)).status, 200, event.type);
    assert.equal((await stored(booking.id)).status, 'requested');
    assert.deepEqual(await notices(), []);
  });

  it('a place in a slot of another service than the package\'s is given back, and the booking rejected', async () => {
    const booking = await placeBooking({ status: 'requested' });
    const queueBookingId = randomUUID();
    await send(confirmedEvent(booking, { queueBookingId, serviceId: 'check-up' }));
    const now = await stored(booking.id);
    assert.deepEqual([now.status, now.rejectReason], ['rejected', 'slot-of-another-service']);
    const asked = (await published('booking-requests')).map((e) => [e.type, e.data.bookingId]);
    assert.deepEqual(asked, [['com.medlab.booking.cancel-requested', queueBookingId]]);
    assert.deepEqual((await notices()).map((n) => n.template), ['booking-rejected']);
  });

  it('data that breaks the contract is refused with a 400 naming the field (dead-lettered, never retried)', async () => {
    const res = await send({ type: 'com.medlab.booking.confirmed', data: { requestId: randomUUID() } });
    assert.equal(res.status, 400);
    assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === 'data/bookingId'));
  });
});
