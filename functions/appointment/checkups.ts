// A company's check-up list spread over days and resources, with no database: the window the request asks
// for (branch-local dates, at most 92 days, future times only), and the plan. Availability is computed once
// for the window; employees then take days in turn (round-robin), each the earliest start of that day whose
// resources this plan has not already taken, so the load spreads over the days instead of filling the first.
import { addDays, branchDay, daysCovered, localTimeToUtc } from '../shared/calendar';
import { invalid } from '../shared/domain-errors';
import { assign, findSlots, freeIntervals, matches, subtract, type Candidate, type Interval, type Requirement, type ResourceCalendar } from './schedule';

/** The longest window one request may ask for: a quarter (a company's check-up season). */
export const MAX_CHECKUP_DAYS = 92;
/** Starts fall on a quarter-hour grid, as the portal offers them. */
const STEP_MINUTES = 15;

/** [from 00:00, the day after to 00:00) in the branch's zone, never before `now`; refuses a reversed or too long range (data/to). */
export function checkupWindow(from: string, to: string, zone: string, now: Date): Interval {
  if (to < from) throw invalid(`to (${to}) is before from (${from})`, 'to');
  const days = daysCovered(from, to);
  if (days > MAX_CHECKUP_DAYS) throw invalid(`from ${from} to ${to} is ${days} days; a check-up request covers at most ${MAX_CHECKUP_DAYS}`, 'to');
  const start = localTimeToUtc(from, '00:00', zone).getTime();
  const end = localTimeToUtc(addDays(to, 1), '00:00', zone).getTime();
  return { start: Math.max(start, now.getTime()), end };
}

/** The requirements no resource of the branch can serve at all (the branch cannot give this visit). */
export const unserved = (needs: Requirement[], resources: ResourceCalendar[]) => needs.filter((n) => !resources.some((r) => matches(n, r)));

export interface PlanInput<P> {
  /** In the order the company listed them; the first ones get the first days. */
  employees: P[];
  requirements: Requirement[];
  durationMinutes: number;
  /** The branch's calendars for the window, with what is booked on them already. */
  resources: ResourceCalendar[];
  window: Interval;
  /** The zone whose calendar days the load is spread over. */
  zone: string;
}

export interface Plan<P> {
  placed: Array<{ employee: P; place: Candidate }>;
  unplaced: P[];
}

export function planCheckups<P>(input: PlanInput<P>): Plan<P> {
  const { requirements, durationMinutes, resources, window, zone } = input;
  // Every start where the visit fits now, by branch-local day: what the plan picks from.
  const byDay = new Map<string, number[]>();
  for (const c of findSlots({ requirements, resources, durationMinutes, from: window.start, to: window.end, stepMinutes: STEP_MINUTES })) {
    const day = branchDay(new Date(c.start), zone);
    const starts = byDay.get(day);
    if (starts) starts.push(c.start);
    else byDay.set(day, [c.start]);
  }
  // What is still free on each resource, as this plan takes time from it.
  const free = new Map(resources.map((r) => [r.id, { resource: r, free: freeIntervals(r, window.start, window.end) }]));
  const duration = durationMinutes * 60_000;
  // Each day's starts before its cursor no longer fit (taking more never frees anything), so each day is walked once.
  const days = [...byDay.keys()].sort().map((day) => ({ starts: byDay.get(day)!, cursor: 0 }));
  const placeOn = (day: (typeof days)[number]): Candidate | undefined => {
    for (; day.cursor < day.starts.length; day.cursor++) {
      const start = day.starts[day.cursor];
      const resourceIds = assign(requirements, free, start, start + duration);
      if (!resourceIds) continue;
      for (const id of resourceIds) free.get(id)!.free = subtract(free.get(id)!.free, [{ start, end: start + duration }]);
      return { start, end: start + duration, resourceIds };
    }
    return undefined;
  };

  const plan: Plan<P> = { placed: [], unplaced: [] };
  let next = 0;
  for (const employee of input.employees) {
    let place: Candidate | undefined;
    // The next day in turn; a full day leaves the rotation and the employee tries the following one.
    while (!place && days.length) {
      next %= days.length;
      place = placeOn(days[next]);
      if (place) next++;
      else days.splice(next, 1);
    }
    if (place) plan.placed.push({ employee, place });
    else plan.unplaced.push(employee);
  }
  return plan;
}
