// Journey step 2 through the bundle as `npm start` runs it (knative/ wiring, in-process bus): a patient books a
// package in a slot from the booking queue's availability; patient-booking asks on booking-requests, the
// booking queue's own booking-consumer takes a place and answers on booking-events, and patient-booking's
// booking consumer confirms the package booking with the slot's branch and time and asks for the notice.
import { strict as assert } from 'node:assert';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { branchDay } from '../functions/shared/calendar';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, published, bundleIdle, eventually, BRANCH } from './support/fixtures';
import { seedPackage, PACKAGE } from './support/package-bookings';

describe('a package booking through the booking queue (bundle, in-process bus)', function () {
  this.timeout(60_000);
  let bundle: Bundle;

  before(async () => { bundle = await new Bundle({ port: 0, schedules: false }).start(); });
  after(async () => bundle?.stop());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); await seedPackage(); });

  const patient = patientToken('p-chain');
  /**
   * The booking as the portal polls it, once it is no longer `from`: each hop wakes the next consumer from
   * zero (its ScaledObject sees the lag only after the hop before has published), so idle until it moved.
   */
  const pollUntilMoved = (location: string, from: string) => eventually(async () => {
    await bundleIdle(bundle);
    const polled = await call(`${bundle.url}${location}`, { token: patient });
    return polled.body.status !== from && polled;
  }, `the package booking to leave ${from}`);

  it('booked → the queue takes a real place → the package booking is confirmed with the slot\'s branch and time, and the patient is told', async () => {
    const slot = await createSlot({ capacity: 2 });
    const day = branchDay(slot.startsAt, 'Asia/Ho_Chi_Minh');
    // The portal picks the slot from the booking queue's availability.
    const free = await call(`${bundle.url}/api/availability`, { query: { branchId: BRANCH, serviceId: 'blood-draw', from: day, to: day } });
    assert.equal(free.status, 200, JSON.stringify(free.body));
    assert.ok(JSON.stringify(free.body).includes(slot.id), 'the slot is offered');

    const booked = await call(`${bundle.url}/api/package-bookings`, { token: patient, body: { packageCode: PACKAGE, slotId: slot.id } });
    assert.equal(booked.status, 202, JSON.stringify(booked.body));
    const polled = await pollUntilMoved(booked.headers.get('location')!, 'requested');
    assert.equal(polled.status, 200);
    assert.deepEqual([polled.body.status, polled.body.branchId, polled.body.startsAt], ['confirmed', BRANCH, slot.startsAt.toISOString()]);
    const place = await db().booking.findUniqueOrThrow({ where: { id: polled.body.queueBookingId } });
    assert.deepEqual([place.slotId, place.patientId, place.status], [slot.id, 'p-chain', 'confirmed']);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    const notice = (await published('notification-requests')).find((e) => e.data.template === 'booking-confirmed');
    assert.equal(notice?.data.variables.bookingId, booked.body.bookingId);

    // Cancelled: the queue frees the place, and says so; the package booking follows.
    const cancelled = await call(`${bundle.url}/api/package-bookings/cancel`, { token: patient, body: { bookingId: booked.body.bookingId } });
    assert.equal(cancelled.status, 202);
    assert.equal((await pollUntilMoved(booked.headers.get('location')!, 'cancel_requested')).body.status, 'cancelled');
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 0);
  });

  it('a full slot: the queue rejects, and the package booking says why', async () => {
    const slot = await createSlot({ capacity: 1 });
    const first = await call(`${bundle.url}/api/bookings`, { token: patientToken('p-early'), body: { slotId: slot.id } });
    assert.equal(first.status, 201);
    const booked = await call(`${bundle.url}/api/package-bookings`, { token: patient, body: { packageCode: PACKAGE, slotId: slot.id } });
    const polled = await pollUntilMoved(booked.headers.get('location')!, 'requested');
    assert.deepEqual([polled.body.status, polled.body.rejectReason], ['rejected', 'slot-full']);
    assert.ok((await published('notification-requests')).some((e) => e.data.template === 'booking-rejected' && e.data.recipient.patientId === 'p-chain'));
  });
});
