// An admin records that a resource is away (leave, maintenance, a holiday) or works extra hours. Visits the
// absence leaves without their resource are named in the answer for staff to reschedule.
import { route, created } from '../../shared/http';
import { invalid, notFound } from '../../shared/domain-errors';
import { visitsOutsideSchedule } from '../clinic';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

const MAX_DAYS = 366;

export const handle = route(
  {
    name: 'appointment-exception-save', system, method: 'POST', path: '/api/appointments/resources/exceptions',
    summary: 'Close a resource for a period, or open it for extra hours (admin)', auth: ['staff'], grant: 'admin', body,
    responses: { 201: { description: 'the exception', schema: view } },
    refuses: { 'not-found': 'no such resource (or not at the caller\'s branch)', invalid: 'an end not after the start, or over a year' },
  },
  async ({ body, caller, transaction }) => {
    const start = new Date(body.start);
    const end = new Date(body.end);
    if (end <= start) throw invalid('must be after start', 'end');
    if (end.getTime() - start.getTime() > MAX_DAYS * 86_400_000) throw invalid(`at most ${MAX_DAYS} days after start`, 'end');
    return transaction(async (tx) => {
      const resource = await tx.resource.findUnique({ where: { id: body.resourceId } });
      if (!resource || (caller.branchId && resource.branchId !== caller.branchId)) throw notFound('resourceId');
      const made = await tx.scheduleException.create({ data: { resourceId: resource.id, kind: body.kind, startsAt: start, endsAt: end, reason: body.reason ?? null } });
      return created({
        exceptionId: made.id, resourceId: resource.id, kind: made.kind, start: start.toISOString(), end: end.toISOString(),
        ...(made.reason ? { reason: made.reason } : {}), visitsOutsideSchedule: await visitsOutsideSchedule(tx, resource.id),
      });
    });
  },
);
