// When can a patient come for a visit type at a branch? Every start where one free resource for each thing
// the visit needs (a doctor, a room, an ECG) is working and unbooked for the whole visit: weekly hours,
// breaks and exceptions of each resource, intersected (FHIR $find across several schedules).
import { route, ok } from '../../shared/http';
import { invalid } from '../../shared/domain-errors';
import { dayBounds, daysCovered } from '../../shared/calendar';
import { branchZone, calendars, visitTypeOf } from '../appointments';
import { findSlots } from '../schedule';
import { system } from '../system';
import { MAX_DAYS, query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-availability', system, method: 'GET', path: '/api/appointments/availability',
    summary: 'Free times for a visit type at a branch, across every resource it needs', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the free starts, earliest first', schema: view } },
    refuses: { 'not-found': 'no such visit type', invalid: 'to before from, or more than 92 days' },
  },
  async ({ query, caller, db }) => {
    const to = query.to ?? query.from;
    const days = daysCovered(query.from, to);
    if (days === 0) throw invalid('must not be before from', 'to');
    if (days > MAX_DAYS) throw invalid(`at most ${MAX_DAYS} days from from`, 'to');
    const visitType = await visitTypeOf(db, query.visitTypeId);
    const zone = await branchZone(db, query.branchId);
    const start = dayBounds(query.from, zone).start;
    const end = dayBounds(to, zone).end;
    const from = new Date(Math.max(start.getTime(), Date.now()));
    const slots = from < end
      ? findSlots({
        requirements: visitType.needs, resources: await calendars(db, query.branchId, visitType.needs, from, end),
        durationMinutes: visitType.durationMinutes, from: from.getTime(), to: end.getTime(), limit: query.limit,
      })
      : [];
    const showResources = caller.role !== 'patient';
    return ok({
      visitTypeId: visitType.id, branchId: query.branchId, durationMinutes: visitType.durationMinutes,
      slots: slots.map((s) => ({ start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(), ...(showResources ? { resourceIds: s.resourceIds } : {}) })),
    });
  },
);
