// A patient sees their own visits, soonest first; staff see a patient's visits at their branch, services
// any. Lapsed holds and cancellations only when asked for.
import { route, ok } from '../../shared/http';
import { invalid } from '../../shared/domain-errors';
import { appointmentView } from '../appointments';
import { patientOf } from '../../shared/access';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

const YEAR_MS = 366 * 86_400_000;

export const handle = route(
  {
    name: 'appointment-list', system, method: 'GET', path: '/api/appointments',
    summary: 'A patient\'s visits in a window, soonest first', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the visits', schema: view } },
    refuses: { forbidden: 'a patient asking for another patient', invalid: 'staff must name the patient; to before from' },
  },
  async ({ query, caller, db }) => {
    const patientId = patientOf(caller, query.patientId, 'appointments');
    const from = query.from ? new Date(query.from) : new Date(new Date().toISOString().slice(0, 10));
    const to = query.to ? new Date(query.to) : new Date(from.getTime() + YEAR_MS);
    if (to <= from) throw invalid('must be after from', 'to');
    const visits = await db.appointment.findMany({
      where: {
        patientId, startsAt: { gte: from, lt: to },
        ...(caller.role === 'staff' && caller.branchId ? { branchId: caller.branchId } : {}),
        ...(query.includeCancelled ? {} : { status: { notIn: ['cancelled', 'entered_in_error'] } }),
      },
      orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
      take: query.limit,
    });
    return ok({ appointments: visits.map((v) => appointmentView(v)) });
  },
);
