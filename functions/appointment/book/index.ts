// A patient books a visit: they confirm their hold, or book a free time at once. Every resource the visit
// needs is taken in the same transaction, and the database refuses any overlap, so no doctor, room or
// device is ever double-booked however many patients race. A visit paid first waits as pending (awaiting
// payment, APPOINTMENT_PAYMENT_MINUTES) until the POS says it is paid.
import { route, created } from '../../shared/http';
import { assertBranch } from '../../shared/access';
import { invalid } from '../../shared/domain-errors';
import { appointmentFor, appointmentView, actor, futureStart, heldResources, knownZone, visitTypeOf } from '../appointments';
import { patientOf } from '../../shared/access';
import { confirmHold, openVisit } from '../booking';
import { system } from '../system';
import { appointment, body } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-book', system, method: 'POST', path: '/api/appointments',
    summary: 'Book a visit: confirm a hold, or book a free time at once', auth: ['patient', 'staff', 'service'], body, idempotent: true,
    responses: { 201: { description: 'the booked visit (booked, or pending while a payment is awaited)', schema: appointment } },
    refuses: {
      'not-found': 'no such hold or visit type', conflict: 'the time is taken, or the hold lapsed', forbidden: 'another branch (staff) or another patient (patient)',
      invalid: 'neither a hold nor a visit type, branch and start; the start is past or outside every schedule',
    },
  },
  async ({ body, caller, transaction }) => {
    if (body.appointmentId) {
      return transaction(async (tx, emit) => {
        const held = await appointmentFor(tx, caller, body.appointmentId!);
        const resourceIds = await heldResources(tx, held.id);
        const booked = await confirmHold(tx, emit, held, await visitTypeOf(tx, held.visitTypeId), resourceIds, actor(caller));
        return created(appointmentView(booked, resourceIds));
      });
    }
    for (const field of ['visitTypeId', 'branchId', 'start'] as const) if (!body[field]) throw invalid('give appointmentId (a hold) or visitTypeId, branchId and start', field);
    const patientId = patientOf(caller, body.patientId, 'appointments');
    if (caller.role === 'staff') assertBranch(caller, body.branchId!);
    const start = futureStart(body.start!);
    knownZone(body.patientTimezone);
    return transaction(async (tx, emit) => {
      const visitType = await visitTypeOf(tx, body.visitTypeId!);
      const visit = { ...body, branchId: body.branchId!, patientId, visitType, start, channel: caller.role === 'patient' ? 'portal' : caller.role };
      const { appointment: booked, place } = await openVisit(tx, emit, visit, 'book', actor(caller));
      return created(appointmentView(booked, place.resourceIds));
    });
  },
);
