// Patients see their own bookings; staff look a patient's bookings up at their branch; other systems see
// any. Newest first, or one booking when bookingId is given.
import { route, ok } from '../../shared/http';
import { forbidden, invalid } from '../../shared/domain-errors';
import { bookingView } from '../domain';
import { findBookingFor } from '../booking-rules';
import { system } from '../system';
import { query, booking, bookingList } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'bookings', system, method: 'GET', path: '/api/bookings',
    summary: 'A patient\'s bookings, or one booking', auth: ['patient', 'staff', 'service'], query,
    responses: {
      200: { description: 'the bookings, newest first; or the one booking asked for by bookingId', schema: { oneOf: [bookingList, booking] } },
    },
    refuses: {
      'not-found': 'no such booking (or not one the caller may see)',
      forbidden: 'a patient asking for another patient\'s bookings',
      invalid: 'staff must give a bookingId or a patientId',
    },
  },
  async ({ query, caller, transaction }) =>
    transaction(async (tx) => {
      if (query.bookingId) {
        const one = await findBookingFor(tx, caller, query.bookingId);
        return ok(bookingView(one, one.slot));
      }
      if (caller.role === 'patient' && query.patientId && query.patientId !== caller.patientId) {
        throw forbidden('patients see their own bookings only', 'patientId');
      }
      // Staff look bookings up for a patient in front of them, never browse the whole branch.
      if (caller.role === 'staff' && !query.patientId) throw invalid('staff give a bookingId or a patientId', 'patientId');

      const bookings = await tx.booking.findMany({
        where: {
          patientId: caller.role === 'patient' ? caller.patientId : query.patientId,
          status: query.status,
          ...(caller.role === 'staff' && caller.branchId ? { slot: { branchId: caller.branchId } } : {}),
        },
        include: { slot: true },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit,
      });
      return ok({ bookings: bookings.map((b) => bookingView(b, b.slot)) });
    }),
);
