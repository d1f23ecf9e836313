// Anyone can see where a branch still has free places: open slots that have not started and are not full,
// grouped by the branch-local day they fall on.
import { route, ok } from '../../shared/http';
import { invalid, notFound } from '../../shared/domain-errors';
import { addDays, branchDay, daysCovered, localTimeToUtc } from '../calendar';
import { system } from '../system';
import type { Slot } from '../../shared/generated/prisma/client';
import { query, availability, MAX_DAYS } from './schema';

export const handle = route(
  {
    name: 'availability', system, method: 'GET', path: '/api/availability',
    summary: 'Free places at a branch, day by day', auth: 'public', query,
    responses: { 200: { description: 'bookable slots by branch-local day', schema: availability } },
    refuses: { 'not-found': 'no such branch', invalid: `the range must not end before it starts, nor cover more than ${MAX_DAYS} days` },
  },
  async ({ query, db }) => {
    if (query.to < query.from) throw invalid('the range ends before it starts', 'to');
    if (daysCovered(query.from, query.to) > MAX_DAYS) throw invalid(`ask for at most ${MAX_DAYS} days at once`, 'to');

    const branch = await db.branch.findUnique({ where: { id: query.branchId } });
    if (!branch) throw notFound('branchId', 'no such branch');

    // The range is whole branch-local days; whatever has already started is no longer bookable.
    const slots = await db.slot.findMany({
      where: {
        branchId: branch.id,
        startsAt: { gte: localTimeToUtc(query.from, '00:00', branch.timezone), lt: localTimeToUtc(addDays(query.to, 1), '00:00', branch.timezone), gt: new Date() },
        ...(query.serviceId ? { serviceId: query.serviceId } : {}),
        status: 'open',
        booked: { lt: db.slot.fields.capacity },
      },
      orderBy: { startsAt: 'asc' },
    });

    const days = new Map<string, Array<ReturnType<typeof freePlaces>>>();
    for (const slot of slots) {
      const date = branchDay(slot.startsAt, branch.timezone);
      if (!days.has(date)) days.set(date, []);
      days.get(date)!.push(freePlaces(slot));
    }
    return ok({ branchId: branch.id, from: query.from, to: query.to, days: [...days].map(([date, free]) => ({ date, slots: free })) });
  },
);

function freePlaces(slot: Slot) {
  return {
    slotId: slot.id, serviceId: slot.serviceId, startsAt: slot.startsAt.toISOString(), endsAt: slot.endsAt.toISOString(),
    capacity: slot.capacity, free: slot.capacity - slot.booked,
  };
}
