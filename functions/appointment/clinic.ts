// Rules of the clinic's resources and visit types: weekly hours that make sense, the views staff get, and
// which coming visits a schedule change leaves outside the resource's time (reported, never silently moved).
import type { Db, Tx } from '../shared/db';
import type { Resource, ScheduleException, VisitType } from '../shared/generated/prisma/client';
import { invalid } from '../shared/domain-errors';
import { asCalendar } from './appointments';
import { contains, workingIntervals, type WeeklyHours } from './schedule';

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Each day's periods start before they end and do not overlap (the gaps are the breaks). */
export function checkHours(hours: WeeklyHours): WeeklyHours {
  for (const [day, periods] of Object.entries(hours)) {
    const sorted = [...(periods ?? [])].sort((a, b) => minutes(a[0]) - minutes(b[0]));
    sorted.forEach(([open, close], i) => {
      if (minutes(close) <= minutes(open)) throw invalid(`day ${day}: ${open}–${close} ends before it starts`, 'hours');
      if (i > 0 && minutes(open) < minutes(sorted[i - 1][1])) throw invalid(`day ${day}: ${open}–${close} overlaps ${sorted[i - 1].join('–')}`, 'hours');
    });
  }
  return hours;
}

export function resourceView(r: Resource & { exceptions?: ScheduleException[] }) {
  return {
    resourceId: r.id, branchId: r.branchId, kind: r.kind, name: r.name, capabilities: r.capabilities, timezone: r.timezone,
    hours: r.hours as Record<string, unknown>, active: r.active,
    ...(r.exceptions ? {
      exceptions: r.exceptions.map((e) => ({ exceptionId: e.id, kind: e.kind, start: e.startsAt.toISOString(), end: e.endsAt.toISOString(), ...(e.reason ? { reason: e.reason } : {}) })),
    } : {}),
  };
}

/** Coming visits holding the resource at times it no longer works (after its hours, exceptions or activity changed). */
export async function visitsOutsideSchedule(db: Db | Tx, resourceId: string, now = new Date()): Promise<string[]> {
  const resource = await db.resource.findUniqueOrThrow({ where: { id: resourceId }, include: { exceptions: { where: { endsAt: { gt: now } } } } });
  const holdings = await db.resourceBooking.findMany({ where: { resourceId, releasedAt: null, endsAt: { gt: now } }, orderBy: { startsAt: 'asc' } });
  if (!holdings.length) return [];
  if (!resource.active) return [...new Set(holdings.map((h) => h.appointmentId))];
  const last = Math.max(...holdings.map((h) => h.endsAt.getTime()));
  const working = workingIntervals(asCalendar(resource), Math.min(now.getTime(), holdings[0].startsAt.getTime()), last);
  return [...new Set(holdings.filter((h) => !contains(working, h.startsAt.getTime(), h.endsAt.getTime())).map((h) => h.appointmentId))];
}

export const visitTypeView = (v: VisitType) => ({
  visitTypeId: v.id, name: v.name, durationMinutes: v.durationMinutes, requirements: v.requirements as unknown[], requiresPayment: v.requiresPayment, active: v.active,
});
