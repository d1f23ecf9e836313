// A patient (or staff, or another system for them) cancels a booking that has not happened yet. The
// booking is cancelled, its place goes back to the slot, and both events commit in the same transaction.
import { route, ok, cors } from '../../shared/http';
import { SYSTEM, assertTransition, bookingFacts, bookingView, releasePlace } from '../domain';
import { lockBookingFor } from '../booking-rules';
import { body, booking } from './schema';

export { cors };

export const handle = route(
  {
    name: 'booking-cancel', system: SYSTEM, method: 'POST', path: '/api/bookings/cancel',
    summary: 'Cancel a booking and free its place', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the cancelled booking', schema: booking } },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller!, body.bookingId, 'body/bookingId');
      assertTransition(found.status, 'cancelled');

      const cancelled = await tx.booking.update({ where: { id: found.id }, data: { status: 'cancelled', cancelReason: body.reason ?? null } });
      const slot = await releasePlace(tx, found.slotId);
      await emit('com.medlab.booking.cancelled', { ...bookingFacts(cancelled, slot), reason: cancelled.cancelReason, cancelledBy: caller!.role });
      await emit('com.medlab.slot.released', { slotId: slot.id, bookingId: cancelled.id, booked: slot.booked, capacity: slot.capacity });
      return ok(bookingView(cancelled, slot));
    }),
);
