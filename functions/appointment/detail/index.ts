// One visit as the patient or the front desk sees it: when and where, its status and payment, what happened
// to it in order (booked, paid, sample collected … rejected), its LIS and POS orders.
import { route, ok } from '../../shared/http';
import { mayView } from '../../shared/access';
import { notFound } from '../../shared/domain-errors';
import { appointmentView } from '../appointments';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-detail', system, method: 'GET', path: '/api/appointments/detail',
    summary: 'A visit with its resources, timeline, lab and POS orders', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the visit', schema: view } },
    refuses: { 'not-found': 'no such appointment (or not one the caller may see)' },
  },
  async ({ query, caller, db }) => {
    const visit = await db.appointment.findUnique({
      where: { id: query.appointmentId },
      include: {
        resources: { where: { releasedAt: null }, orderBy: { resourceId: 'asc' } },
        timeline: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
        labOrders: { orderBy: { createdAt: 'asc' } },
        posOrders: { orderBy: { orderId: 'asc' } },
      },
    });
    if (!visit || !mayView(caller, visit)) throw notFound('appointmentId');
    return ok({
      appointment: appointmentView(visit, visit.resources.map((r) => r.resourceId)),
      timeline: visit.timeline.map((t) => ({ at: t.at.toISOString(), kind: t.kind, by: t.by, detail: t.detail })),
      labOrders: visit.labOrders.map((o) => ({
        accession: o.accession, sampleStatus: o.sampleStatus.replace(/_/g, '-'),
        ...(o.orderStatus ? { orderStatus: o.orderStatus } : {}), ...(o.rejectReason ? { rejectReason: o.rejectReason } : {}),
      })),
      posOrders: visit.posOrders.map((o) => ({ orderId: o.orderId, status: o.status, amount: Number(o.amount), currency: o.currency })),
    });
  },
);
