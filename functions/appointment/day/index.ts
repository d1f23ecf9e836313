// The front desk's day: for each resource of the branch (doctors, rooms, devices), when it works and which
// visits hold it, in time order.
import { route, ok } from '../../shared/http';
import { assertBranch } from '../../shared/access';
import { dayBounds } from '../../shared/calendar';
import { asCalendar, branchZone, fhirStatus } from '../appointments';
import { workingIntervals } from '../schedule';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

const iso = (ms: number | Date) => new Date(ms).toISOString();

export const handle = route(
  {
    name: 'appointment-day', system, method: 'GET', path: '/api/appointments/day',
    summary: 'A branch\'s day per resource: working hours and the visits on each', auth: ['staff', 'service'], query,
    responses: { 200: { description: 'the day', schema: view } },
    refuses: { forbidden: 'another branch' },
  },
  async ({ query, caller, db }) => {
    assertBranch(caller, query.branchId);
    const { start, end } = dayBounds(query.date, await branchZone(db, query.branchId));
    const resources = await db.resource.findMany({
      where: { branchId: query.branchId, active: true },
      include: { exceptions: { where: { startsAt: { lt: end }, endsAt: { gt: start } } } },
      orderBy: [{ kind: 'asc' }, { name: 'asc' }],
    });
    const holdings = await db.resourceBooking.findMany({
      where: { resourceId: { in: resources.map((r) => r.id) }, releasedAt: null, startsAt: { lt: end }, endsAt: { gt: start } },
      include: { appointment: true },
      orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
    });
    return ok({
      branchId: query.branchId, date: query.date,
      resources: resources.map((r) => ({
        resourceId: r.id, kind: r.kind, name: r.name,
        working: workingIntervals(asCalendar(r), start.getTime(), end.getTime()).map((w) => ({ start: iso(w.start), end: iso(w.end) })),
        appointments: holdings.filter((h) => h.resourceId === r.id).map(({ appointment: a }) => ({
          appointmentId: a.id, patientId: a.patientId, visitTypeId: a.visitTypeId, start: iso(a.startsAt), end: iso(a.endsAt), status: fhirStatus(a.status),
        })),
      })),
    });
  },
);
