// Staff fill a range of days with slots from a weekly template: on these weekdays, at these branch-local
// times. Re-running a template is safe: slots that already exist are left as they are (bookings and all),
// and start times that have passed are skipped.
import { route, created } from '../../shared/http';
import { invalid, notFound } from '../../shared/domain-errors';
import { assertBranch } from '../../shared/access';
import { addDays, daysCovered, isoWeekday, localTimeToUtc } from '../calendar';
import { system } from '../system';
import { body, summary, MAX_DAYS } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'slots-generate', system, method: 'POST', path: '/api/slots/generate',
    summary: 'Open slots from a weekly template', auth: ['staff', 'service'], body, idempotent: true,
    responses: { 201: { description: 'how many slots were opened and skipped', schema: summary } },
    refuses: { 'not-found': 'no such branch or service', forbidden: 'staff of another branch', invalid: `the range must not end before it starts, nor cover more than ${MAX_DAYS} days` },
  },
  async ({ body, caller, transaction }) => {
    assertBranch(caller, body.branchId);
    if (body.to < body.from) throw invalid('the range ends before it starts', 'to');
    const days = daysCovered(body.from, body.to);
    if (days > MAX_DAYS) throw invalid(`a template fills at most ${MAX_DAYS} days at once`, 'to');

    return transaction(async (tx) => {
      const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
      if (!branch) throw notFound('branchId', 'no such branch');
      const service = await tx.service.findUnique({ where: { id: body.serviceId } });
      if (!service) throw notFound('serviceId', 'no such service');

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
