// A visit's services or notes change. Another visit type may need other resources or longer: they are taken
// at the same start atomically, as a reschedule does, or nothing changes.
import { route, ok } from '../../shared/http';
import { appointmentFor, appointmentView, actor, facts, heldResources, note, visitTypeOf } from '../appointments';
import { moveVisit } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-modify', system, method: 'POST', path: '/api/appointments/modify',
    summary: 'Change a visit\'s services (visit type) or notes', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the changed visit', schema: appointment } },
    refuses: { 'not-found': 'no such appointment or visit type', conflict: 'the resources the new visit type needs are taken, or the visit has begun or ended' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const visit = await appointmentFor(tx, caller, body.appointmentId);
      if (body.visitTypeId && body.visitTypeId !== visit.visitTypeId) {
        const visitType = await visitTypeOf(tx, body.visitTypeId);
        const { appointment: changed, place } = await moveVisit(tx, emit, visit, { start: visit.startsAt, visitType, notes: body.notes }, 'modified', actor(caller));
        return ok(appointmentView(changed, place.resourceIds));
      }
      // Notes alone: nothing to re-place.
      const changed = await tx.appointment.update({ where: { id: visit.id }, data: { notes: body.notes ?? visit.notes } });
      await note(tx, visit.id, 'modified', actor(caller), { notes: true });
      await emit('com.medlab.appointment.changed', { ...facts(changed), change: 'modified' });
      return ok(appointmentView(changed, await heldResources(tx, visit.id)));
    }),
);
