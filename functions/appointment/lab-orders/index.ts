// Staff at the sampling desk (or the LIS bridge, as a service) link an accession number to the visit its
// sample was taken for, so the LIS's status messages about it find the visit. Linking is idempotent: the
// same link again answers 200; an accession already on another visit is a 409, never moved silently.
import { route, created, ok } from '../../shared/http';
import { mayView } from '../../shared/access';
import { conflict, notFound } from '../../shared/domain-errors';
import { labOrderView, linkLabOrder } from '../samples';
import { system } from '../system';
import { body, labOrder } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'lab-orders', system, method: 'POST', path: '/api/appointments/lab-orders',
    summary: 'Link a LIS accession number to a visit', auth: ['staff', 'service'], body,
    responses: { 201: { description: 'the new link', schema: labOrder }, 200: { description: 'the link, which already existed', schema: labOrder } },
    refuses: { 'not-found': 'no such appointment (or not at the caller\'s branch)', conflict: 'the accession is linked to another appointment' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx) => {
      const appointment = await tx.appointment.findUnique({ where: { id: body.appointmentId } });
      if (!appointment || !mayView(caller, appointment)) throw notFound('appointmentId');
      const { outcome, order } = await linkLabOrder(tx, appointment.id, body.accession, `${caller.role}:${caller.subject}`);
      if (outcome === 'other') throw conflict(`accession ${body.accession} is linked to another appointment`, 'accession');
      return outcome === 'created' ? created(labOrderView(order)) : ok(labOrderView(order));
    }),
);
