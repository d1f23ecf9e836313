// A patient books a package in a slot they picked from the booking queue's availability. The booking is
// stored as requested, with the package's version and price as they are now, and booking.requested (its id
// as the requestId) commits with it; the queue's answer comes back on booking-events. 202: the portal polls
// the Location until the booking is confirmed or rejected. A retry with the same Idempotency-Key books once.
import { route } from '../../shared/http';
import { conflict, notFound } from '../../shared/domain-errors';
import { bookingView, locationOf } from '../bookings';
import { patientOf } from '../../shared/access';
import { system } from '../system';
import { body, packageBooking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'package-book', system, method: 'POST', path: '/api/package-bookings',
    summary: 'Book a package in a slot (asked of the booking queue; poll the Location for its answer)', auth: ['patient', 'staff', 'service'], body, idempotent: true,
    responses: { 202: { description: 'requested: the booking queue has been asked; the Location header says where to poll', schema: packageBooking } },
    refuses: {
      'not-found': 'no such package',
      conflict: 'the package is withdrawn (no longer offered)',
      forbidden: 'a patient booking for someone else',
      invalid: 'staff and services must name the patient',
    },
  },
  async ({ body, caller, transaction }) => {
    const patientId = patientOf(caller, body.patientId, 'package bookings');
    return transaction(async (tx, emit) => {
      const offered = await tx.cataloguePackage.findUnique({ where: { code: body.packageCode } });
      if (!offered) throw notFound('packageCode', 'no such package');
      if (offered.withdrawnAt) throw conflict('the package is no longer offered', 'packageCode');
      const booking = await tx.packageBooking.create({
        data: {
          patientId, packageCode: offered.code, packageVersion: offered.version, priceVnd: offered.priceVnd,
          slotId: body.slotId, serviceId: offered.serviceId,
        },
      });
      await emit('com.medlab.booking.requested', { requestId: booking.id, patientId, slotId: body.slotId, channel: 'patient-booking' });
      return { status: 202, body: bookingView(booking), headers: { location: locationOf(booking.id) } };
    });
  },
);
