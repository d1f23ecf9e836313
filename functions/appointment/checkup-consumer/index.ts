// A company's check-up list (checkup-requests, key requestId) becomes booked appointments, spread over the
// days and resources of the window (checkups.ts). The whole plan commits in one transaction with its events,
// and runs again with fresh calendars if a concurrent booking took a resource it chose. A request delivered
// again, even under another event id, books nobody twice: one appointment per (request, patient).
import { randomUUID } from 'node:crypto';
import { consume } from '../../shared/consume';
import { Prisma, tableOf, type Tx } from '../../shared/db';
import { notFound } from '../../shared/domain-errors';
import { branchZone, calendars, facts, visitTypeOf, type VisitTypeRules } from '../appointments';
import { checkupWindow, planCheckups, unserved, type Plan } from '../checkups';
import { topics } from '../events';
import { placingWithin } from '../placing-within';
import { system } from '../system';
import type { Interval } from '../schedule';
export { init, shutdown } from '../../shared/lifecycle';

interface Employee { patientId: string; timezone?: string; language?: 'vi' | 'en' }

export const handle = consume(
  { name: 'checkup-consumer', system, topics: [topics.checkups], summary: 'Book a company\'s employees for check-ups, spread over days and resources' },
  {
    'com.medlab.checkup.requested': async (request, { tx, emit }) => {
      // One delivery of a request at a time: a second waits, then finds who is booked already.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('checkup-request'), hashtext(${request.requestId}))`;
      const visitType = await visitTypeOf(tx, request.visitTypeId);
      const zone = await branchZone(tx, request.branchId);
      const window = checkupWindow(request.from, request.to, zone, new Date());
      const booked = new Set((await tx.appointment.findMany({ where: { checkupRequestId: request.requestId }, select: { patientId: true } })).map((a) => a.patientId));
      const waiting = [...new Map(request.employees.filter((e) => !booked.has(e.patientId)).map((e) => [e.patientId, e])).values()];

      const plan = await placingWithin(tx, async () => {
        // Locked like the book route's: a patient booking meanwhile queues behind this plan, never deadlocks with it.
        const resources = await calendars(tx, request.branchId, visitType.needs, new Date(window.start), new Date(window.end), { lock: true });
        const missing = unserved(visitType.needs, resources);
        if (missing.length) throw notFound('branchId', `branch ${request.branchId} has no ${missing.map((n) => [n.capability, n.kind].filter(Boolean).join(' ')).join(', ')} for ${visitType.id}`);
        const planned = planCheckups({ employees: waiting, requirements: visitType.needs, durationMinutes: visitType.durationMinutes, resources, window, zone });
        return { ...planned, appointments: await book(tx, planned, visitType, request.branchId, request.requestId, zone) };
      });

      for (const { appointment, resourceIds } of plan.appointments) await emit('com.medlab.appointment.booked', { ...facts(appointment), resourceIds });
      const unplaced = plan.unplaced.map((e) => e.patientId);
      const scheduled = booked.size + plan.placed.length;
      await emit('com.medlab.checkup.scheduled', { requestId: request.requestId, companyId: request.companyId, scheduled, unplaced });
      return { scheduled, booked: plan.placed.length, alreadyBooked: booked.size, unplaced };
    },
  },
);

const holdings = tableOf(system, 'resource_booking');
/** Rows per INSERT of holdings: 4 parameters each, well under PostgreSQL's 65,535. */
const CHUNK = 2000;

/** Every planned appointment and its holdings, written in a few statements (a list may have thousands). */
async function book(tx: Tx, plan: Plan<Employee>, visitType: VisitTypeRules, branchId: string, requestId: string, zone: string) {
  if (!plan.placed.length) return [];
  const planned = plan.placed.map(({ employee, place }) => ({ id: randomUUID(), employee, place }));
  const appointments = await tx.appointment.createManyAndReturn({
    data: planned.map(({ id, employee, place }) => ({
      id, patientId: employee.patientId, branchId, visitTypeId: visitType.id,
      startsAt: new Date(place.start), endsAt: new Date(place.end), status: 'booked' as const,
      // The company is invoiced for its check-ups: nothing is paid at the POS before the visit.
      paymentStatus: 'not_required' as const,
      patientTimezone: employee.timezone ?? zone, language: employee.language ?? 'vi',
      channel: 'checkup', checkupRequestId: requestId,
    })),
  });
  // Holdings in resource order (as takeResources does for one visit), so a concurrent booking queues behind this plan, never deadlocks with it.
  const rows = planned.flatMap(({ id, place }) => place.resourceIds.map((resourceId) => ({ id, resourceId, place: place as Interval })))
    .sort((a, b) => a.resourceId.localeCompare(b.resourceId) || a.place.start - b.place.start);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => Prisma.sql`(${r.id}::uuid, ${r.resourceId}::uuid, ${new Date(r.place.start)}, ${new Date(r.place.end)})`);
    await tx.$executeRaw`INSERT INTO ${holdings} (appointment_id, resource_id, starts_at, ends_at) VALUES ${Prisma.join(values)}`;
  }
  const byId = new Map(appointments.map((a) => [a.id, a]));
  return planned.map(({ id, place }) => ({ appointment: byId.get(id)!, resourceIds: [...place.resourceIds].sort() }));
}
