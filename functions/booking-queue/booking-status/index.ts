// Staff move a booking along: confirm a pending one, complete a visit, or record that the patient never
// came. A no-show keeps its place counted: the slot's time has passed, so there is nothing to give back.
import { route, ok } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { assertTransition, bookingFacts, bookingView } from '../domain';
import { lockBookingFor } from '../booking-rules';
import { system } from '../system';
import { body, booking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'booking-status', system, method: 'POST', path: '/api/bookings/status',
    summary: 'Confirm, complete or mark a booking as no-show', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the booking with its new status', schema: booking } },
    refuses: { 'not-found': 'no such booking at the caller\'s branch', conflict: 'the booking cannot make this move (or its slot has not started, for a no-show)' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const found = await lockBookingFor(tx, caller, body.bookingId);
      assertTransition(found.status, body.status, 'status');
      // Nobody is a no-show before their slot has begun.
      if (body.status === 'no_show' && found.slot.startsAt > new Date()) throw conflict('the slot has not started yet', 'status');

      const changed = await tx.booking.update({ where: { id: found.id }, data: { status: body.status } });
      await emit('com.medlab.booking.status-changed', { ...bookingFacts(changed, found.slot), previousStatus: found.status });
      return ok(bookingView(changed, found.slot));
    }),
);
