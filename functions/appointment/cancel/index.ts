// A visit that has not begun is cancelled with a coded reason; every resource it held is free again for its
// time, and the cancellation (flagged same-day when under 24 hours away) goes out with it.
import { route, ok } from '../../shared/http';
import { forbidden } from '../../shared/domain-errors';
import { appointmentFor, appointmentView, actor } from '../appointments';
import { cancelVisit } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-cancel', system, method: 'POST', path: '/api/appointments/cancel',
    summary: 'Cancel a visit with a coded reason and free its resources', auth: ['patient', 'staff', 'service'], body,
    responses: { 200: { description: 'the cancelled visit', schema: appointment } },
    refuses: { 'not-found': 'no such appointment (or not one the caller may see)', conflict: 'the visit has begun or ended', forbidden: 'a patient giving a reason other than patient' },
  },
  async ({ body, caller, transaction }) => {
    const reason = body.reason ?? (caller.role === 'patient' ? 'patient' : 'clinic');
    if (caller.role === 'patient' && reason !== 'patient') throw forbidden('a patient cancels for themselves (reason patient)', 'reason');
    return transaction(async (tx, emit) => {
      const visit = await appointmentFor(tx, caller, body.appointmentId);
      return ok(appointmentView(await cancelVisit(tx, emit, visit, reason, caller.role, actor(caller), body.note)));
    });
  },
);
