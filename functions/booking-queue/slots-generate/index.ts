// Staff fill a range of days with slots from a weekly template: on these weekdays, at these branch-local
// times. Re-running a template is safe: slots that already exist are left as they are (bookings and all),
// and start times that have passed are skipped.
import { route, created, cors } from '../../shared/http';
import { badRequest, notFound } from '../../shared/errors';
import { assertBranchAccess } from '../../shared/auth';
import { SYSTEM } from '../domain';
import { addDays, daysCovered, isoWeekday, localTimeToUtc } from '../booking-rules';
import { body, summary, MAX_DAYS } from './schema';

export { cors };

export const handle = route(
  {
    name: 'slots-generate', system: SYSTEM, method: 'POST', path: '/api/slots/generate',
    summary: 'Open slots from a weekly template', auth: ['staff', 'service'], body,
    responses: { 201: { description: 'how many slots were opened and skipped', schema: summary } },
  },
  async ({ body, caller, transaction }) => {
    assertBranchAccess(caller!, body.branchId);
    if (body.to < body.from) throw badRequest('the range ends before it starts', 'body/to', 'must not be before from');
    const days = daysCovered(body.from, body.to);
    if (days > MAX_DAYS) throw badRequest(`a template fills at most ${MAX_DAYS} days at once`, 'body/to', `must be within ${MAX_DAYS} days of from`);

    return transaction(async (tx) => {
      const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
      if (!branch) throw notFound('body/branchId', 'no such branch');
      const service = await tx.service.findUnique({ where: { id: body.serviceId } });
      if (!service) throw notFound('body/serviceId', 'no such service');

      const minutes = body.durationMinutes ?? service.durationMinutes;
      const now = Date.now();
      const starts = Array.from({ length: days }, (_, i) => addDays(body.from, i))
        .filter((day) => body.weekdays.includes(isoWeekday(day)))
        .flatMap((day) => body.times.map((time) => localTimeToUtc(day, time, branch.timezone)));
      const upcoming = starts.filter((at) => at.getTime() > now);

      const { count } = await tx.slot.createMany({
        data: upcoming.map((startsAt) => ({
          branchId: branch.id, serviceId: service.id, startsAt, endsAt: new Date(startsAt.getTime() + minutes * 60_000), capacity: body.capacity,
        })),
        skipDuplicates: true,
      });
      return created({ slots: starts.length, created: count, skipped: starts.length - count });
    });
  },
);
