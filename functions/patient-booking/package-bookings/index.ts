// A patient's package bookings, newest first: their own; staff look up a patient in front of them (at their
// branch, and those not placed yet), services any patient's.
import { route, ok } from '../../shared/http';
import { bookingView } from '../bookings';
import { patientOf } from '../../shared/access';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'package-bookings', system, method: 'GET', path: '/api/package-bookings',
    summary: 'A patient\'s package bookings, newest first', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the bookings, newest first', schema: view } },
    refuses: { forbidden: 'a patient asking for another patient\'s bookings', invalid: 'staff and services must name the patient' },
  },
  async ({ query, caller, db }) => {
    const patientId = patientOf(caller, query.patientId, 'package bookings');
    const bookings = await db.packageBooking.findMany({
      where: {
        patientId, status: query.status,
        ...(caller.role === 'staff' && caller.branchId ? { OR: [{ branchId: caller.branchId }, { branchId: null }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit,
    });
    return ok({ bookings: bookings.map(bookingView) });
  },
);
