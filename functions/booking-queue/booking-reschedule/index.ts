// A booking moves to another slot of the same service at the same branch. The new place is taken and the
// old one given back in one transaction: if the new slot cannot take the patient, nothing changes and the
// patient keeps the place they had.
import { route, ok, cors } from '../../shared/http';
import { conflict, notFound } from '../../shared/errors';
import { SYSTEM, bookingFacts, bookingView, placeFacts, releasePlace } from '../domain';
import { lockBookingFor, lockSlots, placeIn } from '../booking-rules';
import { body, booking } from './schema';

export { cors };

export const handle = route(
  {
    name: 'booking-reschedule', system: SYSTEM, method: 'POST', path: '/api/bookings/reschedule',
    summary: 'Move a booking to another slot', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the booking in its new slot', schema: booking } },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller!, body.bookingId, 'body/bookingId');
      if (found.status !== 'pending' && found.status !== 'confirmed') throw conflict(`a ${found.status} booking cannot be moved`, 'body/bookingId');
      if (body.slotId === found.slotId) throw conflict('the booking is already in this slot', 'body/slotId');
      const target = await tx.slot.findUnique({ where: { id: body.slotId } });
      if (!target) throw notFound('body/slotId', 'no such slot');
      if (target.branchId !== found.slot.branchId || target.serviceId !== found.slot.serviceId) {
        throw conflict('a booking moves only to a slot of the same service at the same branch', 'body/slotId');
      }

      await lockSlots(tx, [found.slotId, target.id]);
      const taken = await placeIn(tx, target.id, 'body/slotId');
      const released = await releasePlace(tx, found.slotId);
      const moved = await tx.booking.update({ where: { id: found.id }, data: { slotId: taken.id } });

      await emit('com.medlab.booking.rescheduled', { ...bookingFacts(moved, taken), previousSlotId: released.id, previousStartsAt: released.startsAt.toISOString() });
      await emit('com.medlab.slot.released', placeFacts(released, moved.id));
      await emit('com.medlab.slot.allocated', placeFacts(taken, moved.id));
      return ok(bookingView(moved, taken));
    }),
);
