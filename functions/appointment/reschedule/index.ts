// A visit moves to another time, atomically: the old time stays the patient's until every resource at the
// new one is taken, and a refused move changes nothing. The visit does not block its own new time.
import { route, ok } from '../../shared/http';
import { appointmentFor, appointmentView, actor, futureStart, visitTypeOf } from '../appointments';
import { moveVisit } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-reschedule', system, method: 'POST', path: '/api/appointments/reschedule',
    summary: 'Move a visit to another time, atomically', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the visit at its new time', schema: appointment } },
    refuses: {
      'not-found': 'no such appointment (or not one the caller may see)', conflict: 'the new time is taken, or the visit has begun or ended',
      invalid: 'the new start is past or outside every schedule',
    },
  },
  async ({ body, caller, transaction }) => {
    const start = futureStart(body.start);
    return transaction(async (tx, emit) => {
      const visit = await appointmentFor(tx, caller, body.appointmentId);
      const { appointment: moved, place } = await moveVisit(tx, emit, visit, { start, visitType: await visitTypeOf(tx, visit.visitTypeId) }, 'rescheduled', actor(caller));
      return ok(appointmentView(moved, place.resourceIds));
    });
  },
);
