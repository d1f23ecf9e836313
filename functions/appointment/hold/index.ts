// A patient holds a time while they confirm: every resource the visit needs is taken for a few minutes
// (APPOINTMENT_HOLD_MINUTES, default 5), so nobody else can book it meanwhile; the cron frees it if it lapses.
import { route, created } from '../../shared/http';
import { assertBranch } from '../../shared/access';
import { appointmentView, actor, futureStart, knownZone, visitTypeOf } from '../appointments';
import { patientOf } from '../../shared/access';
import { openVisit } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-hold', system, method: 'POST', path: '/api/appointments/hold',
    summary: 'Hold a time on every resource a visit needs for a few minutes', auth: ['patient', 'staff', 'service'], body, idempotent: true,
    responses: { 201: { description: 'the hold (status proposed, holdExpiresAt)', schema: appointment } },
    refuses: {
      'not-found': 'no such visit type', conflict: 'the time is taken', forbidden: 'another branch (staff) or another patient (patient)',
      invalid: 'the start is past or outside every schedule; staff must name the patient',
    },
  },
  async ({ body, caller, transaction }) => {
    const patientId = patientOf(caller, body.patientId, 'appointments');
    if (caller.role === 'staff') assertBranch(caller, body.branchId);
    const start = futureStart(body.start);
    knownZone(body.patientTimezone);
    return transaction(async (tx, emit) => {
      const visitType = await visitTypeOf(tx, body.visitTypeId);
      const { appointment: held, place } = await openVisit(tx, emit, { ...body, patientId, visitType, start, channel: caller.role === 'patient' ? 'portal' : caller.role }, 'hold', actor(caller));
      return created(appointmentView(held, place.resourceIds));
    });
  },
);
