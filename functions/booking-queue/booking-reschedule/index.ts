// A booking moves to another slot of the same service at the same branch. The new place is taken and the
// old one given back in one transaction: if the new slot cannot take the patient, nothing changes and the
// patient keeps the place they had.
import { route, ok } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { bookingFacts, bookingView, placeFacts, releasePlace } from '../domain';
import { lockBookingFor, lockSlots, placeIn, roomIn } from '../booking-rules';
import { system } from '../system';
import { body, booking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'booking-reschedule', system, method: 'POST', path: '/api/bookings/reschedule',
    summary: 'Move a booking to another slot', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the booking in its new slot', schema: booking } },
    refuses: {
      'not-found': 'no such booking (or not one the caller may see), or no such slot',
      conflict: 'the booking cannot move, or the new slot cannot take the patient',
    },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller, body.bookingId);
      if (found.status !== 'pending' && found.status !== 'confirmed') throw conflict(`a ${found.status} booking cannot be moved`, 'bookingId');
      if (body.slotId === found.slotId) throw conflict('the booking is already in this slot', 'slotId');
      // The patient's own rules first (their lock), then the two slots in a fixed order.
      const target = await roomIn(tx, found.patientId, body.slotId, found.id);
      if (target.branchId !== found.slot.branchId || target.serviceId !== found.slot.serviceId) {
        throw conflict('a booking moves only to a slot of the same service at the same branch', 'slotId');
      }
      await lockSlots(tx, [found.slotId, target.id]);
      const taken = await placeIn(tx, target.id);
      const released = await releasePlace(tx, found.slotId);
      const moved = await tx.booking.update({ where: { id: found.id }, data: { slotId: taken.id } });

      await emit('com.medlab.booking.rescheduled', { ...bookingFacts(moved, taken), previousSlotId: released.id, previousStartsAt: released.startsAt.toISOString() });
      await emit('com.medlab.slot.released', placeFacts(released, moved.id));
      await emit('com.medlab.slot.allocated', placeFacts(taken, moved.id));
      return ok(bookingView(moved, taken));
    }),
);
