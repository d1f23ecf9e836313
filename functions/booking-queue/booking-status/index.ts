// Staff move a booking along: confirm a pending one, complete a visit, or record that the patient never
// came. A no-show keeps its place counted: the slot's time has passed, so there is nothing to give back.
import { route, ok, cors } from '../../shared/http';
import { conflict } from '../../shared/errors';
import { SYSTEM, assertTransition, bookingFacts, bookingView } from '../domain';
import { lockBookingFor } from '../booking-rules';
import { body, booking } from './schema';

export { cors };

export const handle = route(
  {
    name: 'booking-status', system: SYSTEM, method: 'POST', path: '/api/bookings/status',
    summary: 'Confirm, complete or mark a booking as no-show', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the booking with its new status', schema: booking } },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller!, body.bookingId, 'body/bookingId');
      assertTransition(found.status, body.status, 'body/status');
      // Nobody is a no-show before their slot has begun.
      if (body.status === 'no_show' && found.slot.startsAt > new Date()) throw conflict('the slot has not started yet', 'body/status');

      const changed = await tx.booking.update({ where: { id: found.id }, data: { status: body.status } });
      await emit('com.medlab.booking.status-changed', { ...bookingFacts(changed, found.slot), previousStatus: found.status });
      return ok(bookingView(changed, found.slot));
    }),
);
