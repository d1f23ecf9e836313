// An admin defines a visit type: how long it takes and what it needs (an annual check-up: a general
// practitioner, an exam room, an ECG device). Visits already booked keep what they hold.
import { route, created, ok } from '../../shared/http';
import { system } from '../system';
import { visitTypeView } from '../clinic';
import { body, visitType } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-visit-type-save', system, method: 'POST', path: '/api/appointments/visit-types',
    summary: 'Add or change a visit type and what it needs (admin)', auth: ['staff'], grant: 'admin', body,
    responses: { 201: { description: 'the new visit type', schema: visitType }, 200: { description: 'the changed visit type', schema: visitType } },
  },
  async ({ body, transaction }) =>
    transaction(async (tx) => {
      const data = { name: body.name, durationMinutes: body.durationMinutes, requirements: body.requirements.map((r) => ({ ...r })), requiresPayment: body.requiresPayment, active: body.active };
      const existed = await tx.visitType.findUnique({ where: { id: body.visitTypeId } });
      const saved = await tx.visitType.upsert({ where: { id: body.visitTypeId }, create: { id: body.visitTypeId, ...data }, update: data });
      return existed ? ok(visitTypeView(saved)) : created(visitTypeView(saved));
    }),
);
