// One package booking, where the portal polls after booking: requested until the booking queue answers, then
// confirmed (with its branch and time) or rejected (with the reason), and on through the visit.
import { route, ok } from '../../shared/http';
import { assertMayView, bookingView } from '../bookings';
import { system } from '../system';
import { query, packageBooking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'package-booking', system, method: 'GET', path: '/api/package-bookings/detail',
    summary: 'One package booking and where it stands', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the booking', schema: packageBooking } },
    refuses: { 'not-found': 'no such package booking (or not one the caller may see)' },
  },
  async ({ query, caller, db }) => {
    const booking = assertMayView(caller, await db.packageBooking.findUnique({ where: { id: query.bookingId } }));
    return ok(bookingView(booking));
  },
);
