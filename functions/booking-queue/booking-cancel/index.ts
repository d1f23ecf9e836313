// A patient (or staff, or another system for them) cancels a booking that has not happened yet. The
// booking is cancelled, its place goes back to the slot, and both events commit in the same transaction.
import { route, ok } from '../../shared/http';
import { bookingView, cancelBooking } from '../domain';
import { lockBookingFor } from '../booking-rules';
import { system } from '../system';
import { body, booking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'booking-cancel', system, method: 'POST', path: '/api/bookings/cancel',
    summary: 'Cancel a booking and free its place', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the cancelled booking', schema: booking } },
    refuses: { 'not-found': 'no such booking (or not one the caller may see)', conflict: 'the booking can no longer be cancelled' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller, body.bookingId);
      const { cancelled, slot } = await cancelBooking(tx, emit, found, body.reason ?? null, caller.role);
      return ok(bookingView(cancelled, slot));
    }),
);
