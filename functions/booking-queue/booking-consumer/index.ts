// Booking requests that other systems put on the booking-requests topic (the portal's booking form, the
// patient-booking system). Each request takes a place and is confirmed, or is rejected with a reason;
// a cancel request releases the place. Delivery is at-least-once: consume() makes each event count once,
// and the requestId makes a request re-sent under a new event id book once too.
import { consume } from '../../shared/consume';
import { notFound } from '../../shared/domain-errors';
import { topics } from '../events';
import { lockPatientDay, roomFor, takePlace, bookPlace, cancelBooking } from '../domain';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

const REASONS = { full: 'slot-full', closed: 'slot-closed', past: 'slot-in-past', missing: 'slot-not-found', 'already-booked': 'already-booked', 'daily-limit': 'daily-limit' } as const;

export const handle = consume(
  { name: 'booking-consumer', system, topics: [topics.bookingRequests], summary: 'Decide booking requests from other systems' },
  {
    'com.medlab.booking.requested': async (request, { tx, emit }) => {
      const idempotencyKey = `request:${request.requestId}`;
      const earlier = await tx.booking.findUnique({ where: { patientId_idempotencyKey: { patientId: request.patientId, idempotencyKey } } });
      if (earlier) return { outcome: 'already-booked', bookingId: earlier.id };

      const slot = await lockPatientDay(tx, request.patientId, request.slotId);
      const place = !slot ? 'missing' : (await roomFor(tx, request.patientId, slot)) ?? (await takePlace(tx, slot.id));
      if (typeof place === 'string') {
        const reason = REASONS[place];
        await emit('com.medlab.booking.rejected', { requestId: request.requestId, patientId: request.patientId, slotId: request.slotId, reason });
        return { outcome: 'rejected', reason };
      }
      const booking = await bookPlace(tx, emit, place, {
        patientId: request.patientId, idempotencyKey, channel: request.channel ?? 'portal',
        requiresConfirmation: slot!.requiresConfirmation, requestId: request.requestId,
      });
      return { outcome: booking.status, bookingId: booking.id };
    },

    'com.medlab.booking.cancel-requested': async (request, { tx, emit }) => {
      const booking = await tx.booking.findUnique({ where: { id: request.bookingId } });
      // Wrong booking or patient can never succeed: the refusal sends the event to the dead-letter sink.
      if (!booking || booking.patientId !== request.patientId) throw notFound('bookingId', 'no such booking for this patient');
      if (booking.status === 'cancelled') return { outcome: 'already-cancelled', bookingId: booking.id };
      await cancelBooking(tx, emit, booking, request.reason ?? null, 'service');
      return { outcome: 'cancelled', bookingId: booking.id };
    },
  },
);
