// Staff record where a visit is: the patient arrived, checked in, was seen (fulfilled), never came (noshow),
// or the visit was a mistake (entered-in-error, which frees its resources). Only FHIR's moves are allowed.
import { route, ok } from '../../shared/http';
import { appointmentFor, appointmentView, actor, dbStatus } from '../appointments';
import { moveStatus } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-status', system, method: 'POST', path: '/api/appointments/status',
    summary: 'Record a visit\'s status (arrived, checked-in, fulfilled, noshow, entered-in-error)', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the visit in its new status', schema: appointment } },
    refuses: { 'not-found': 'no such appointment (or not at the caller\'s branch)', conflict: 'FHIR does not allow that move from the visit\'s status' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const visit = await appointmentFor(tx, caller, body.appointmentId);
      return ok(appointmentView(await moveStatus(tx, emit, visit, dbStatus(body.status), actor(caller))));
    }),
);
