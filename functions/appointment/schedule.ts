// Scheduling maths, with no database: when a resource works (weekly hours in its zone, breaks as the gaps,
// exceptions that close or open it), when it is free (working, minus what is booked), and the times a visit
// can start with one free resource for each thing it needs (FHIR $find across several schedules). Times are
// epoch milliseconds; intervals are half-open [start, end).
import { addDays, branchDay, isoWeekday, localTimeToUtc } from '../shared/calendar';

export interface Interval { start: number; end: number }

/** Weekly hours by ISO weekday ("1" Monday … "7" Sunday): periods of local wall-clock time, e.g. [["08:00","12:00"]]. */
export type WeeklyHours = Partial<Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', [string, string][]>>;

export type ResourceKind = 'practitioner' | 'room' | 'device';

export interface Requirement { kind: ResourceKind; capability?: string }

export interface ResourceCalendar {
  id: string;
  kind: ResourceKind;
  capabilities: string[];
  timezone: string;
  hours: WeeklyHours;
  exceptions: Array<Interval & { kind: 'closed' | 'open' }>;
  /** What is booked on it (holdings in force). */
  busy: Interval[];
}

export interface Candidate { start: number; end: number; resourceIds: string[] }

const MINUTE = 60_000;

/** Sorted, overlapping or touching intervals joined. */
export function merge(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ ...i });
  }
  return out;
}

/** `from` with every interval of `cut` taken out (both merged). */
export function subtract(from: Interval[], cut: Interval[]): Interval[] {
  const out: Interval[] = [];
  const cuts = merge(cut);
  for (const f of merge(from)) {
    let start = f.start;
    for (const c of cuts) {
      if (c.end <= start || c.start >= f.end) continue;
      if (c.start > start) out.push({ start, end: c.start });
      start = Math.max(start, c.end);
      if (start >= f.end) break;
    }
    if (start < f.end) out.push({ start, end: f.end });
  }
  return out;
}

/** When the resource works within [from, to): its weekly hours in its own zone, plus open exceptions, minus closed ones. */
export function workingIntervals(resource: Pick<ResourceCalendar, 'timezone' | 'hours' | 'exceptions'>, from: number, to: number): Interval[] {
  const periods: Interval[] = [];
  // A day either side: a zone's local day straddles UTC days.
  const last = branchDay(new Date(to), resource.timezone);
  for (let day = addDays(branchDay(new Date(from), resource.timezone), -1); day <= addDays(last, 1); day = addDays(day, 1)) {
    for (const [open, close] of resource.hours[String(isoWeekday(day)) as keyof WeeklyHours] ?? []) {
      periods.push({ start: localTimeToUtc(day, open, resource.timezone).getTime(), end: localTimeToUtc(day, close, resource.timezone).getTime() });
    }
  }
  const opened = merge([...periods, ...resource.exceptions.filter((e) => e.kind === 'open')]);
  return subtract(opened, [...resource.exceptions.filter((e) => e.kind === 'closed'), { start: -Infinity, end: from }, { start: to, end: Infinity }]);
}

/** When the resource is free within [from, to): working and not booked. */
export function freeIntervals(resource: ResourceCalendar, from: number, to: number): Interval[] {
  return subtract(workingIntervals(resource, from, to), resource.busy);
}

/** Does one of the (sorted, disjoint) intervals contain [start, end) whole? Binary search. */
export function contains(intervals: Interval[], start: number, end: number): boolean {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const i = intervals[mid];
    if (i.end <= start) lo = mid + 1;
    else if (i.start > start) hi = mid - 1;
    else return end <= i.end;
  }
  return false;
}

export const matches = (requirement: Requirement, resource: Pick<ResourceCalendar, 'kind' | 'capabilities'>) =>
  resource.kind === requirement.kind && (!requirement.capability || resource.capabilities.includes(requirement.capability));

/**
 * One distinct resource per requirement, each free for [start, end), or undefined. Requirements are tried
 * in order with backtracking, so a resource that could serve two requirements is not spent on the first when
 * only it can serve the second. Candidates are tried in the order the calendars were given.
 */
export function assign(requirements: Requirement[], free: Map<string, { resource: ResourceCalendar; free: Interval[] }>, start: number, end: number): string[] | undefined {
  const chosen: string[] = [];
  const pick = (r: number): boolean => {
    if (r === requirements.length) return true;
    for (const [id, c] of free) {
      if (chosen.includes(id) || !matches(requirements[r], c.resource) || !contains(c.free, start, end)) continue;
      chosen.push(id);
      if (pick(r + 1)) return true;
      chosen.pop();
    }
    return false;
  };
  return pick(0) ? [...chosen] : undefined;
}

export interface FindOptions {
  requirements: Requirement[];
  resources: ResourceCalendar[];
  durationMinutes: number;
  from: number;
  to: number;
  /** Starts fall on this grid (minutes since the epoch; 15 → :00, :15, :30, :45 in whole- and half-hour zones). */
  stepMinutes?: number;
  limit?: number;
}

/** Every start on the grid within [from, to) where the whole visit fits with one free resource per requirement. */
export function findSlots(options: FindOptions): Candidate[] {
  const { requirements, resources, durationMinutes, from, to } = options;
  const step = (options.stepMinutes ?? 15) * MINUTE;
  const duration = durationMinutes * MINUTE;
  const limit = options.limit ?? Infinity;
  if (!requirements.length) return [];
  const free = new Map<string, { resource: ResourceCalendar; free: Interval[] }>();
  for (const resource of resources) {
    if (requirements.some((r) => matches(r, resource))) free.set(resource.id, { resource, free: freeIntervals(resource, from, to) });
  }
  // Only starts inside the free time of some candidate of the first requirement can work: walk those.
  const firstFree = merge([...free.values()].filter((c) => matches(requirements[0], c.resource)).flatMap((c) => c.free));
  const out: Candidate[] = [];
  for (const window of firstFree) {
    for (let start = Math.ceil(window.start / step) * step; start + duration <= window.end && out.length < limit; start += step) {
      const resourceIds = assign(requirements, free, start, start + duration);
      if (resourceIds) out.push({ start, end: start + duration, resourceIds });
    }
    if (out.length >= limit) break;
  }
  return out;
}
