// A patient (or staff, or a service for them) cancels a package booking that has not begun. The booking queue
// frees the place: booking.cancel-requested goes to it now if it has answered, or, if it has not yet, the
// booking consumer sends it when the answer arrives (the booking is locked by both, so nothing is lost
// between them). 202: cancel_requested until the queue's booking.cancelled comes back.
import { route } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { assertMayView, bookingView, isTerminal, lockBooking } from '../bookings';
import { system } from '../system';
import { body, packageBooking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'package-cancel', system, method: 'POST', path: '/api/package-bookings/cancel',
    summary: 'Cancel a package booking (the booking queue frees its place)', auth: ['patient', 'staff', 'service'], body,
    responses: { 202: { description: 'cancel_requested: the booking queue is asked to free the place (asked again, the same answer)', schema: packageBooking } },
    refuses: { 'not-found': 'no such package booking (or not one the caller may see)', conflict: 'the booking has begun or ended (checked in, completed, no-show, rejected, cancelled)' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const booking = assertMayView(caller, await lockBooking(tx, { id: body.bookingId }));
      if (booking.status === 'cancel_requested') return { status: 202, body: bookingView(booking) };
      if (booking.status === 'checked_in' || isTerminal(booking.status)) throw conflict(`the booking is ${booking.status.replace('_', ' ')}; it can no longer be cancelled`, 'bookingId');
      const cancelling = await tx.packageBooking.update({ where: { id: booking.id }, data: { status: 'cancel_requested' } });
      // Not answered yet (requested): there is no queue booking to name; the booking consumer asks on the answer.
      if (booking.queueBookingId) await emit('com.medlab.booking.cancel-requested', { bookingId: booking.queueBookingId, patientId: booking.patientId });
      return { status: 202, body: bookingView(cancelling) };
    }),
);
