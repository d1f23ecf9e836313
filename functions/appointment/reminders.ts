// When a patient hears about a visit, and how its time reads to them. Reminders go 24 hours and 2 hours
// before a booked visit; a visit booked closer to its start than a reminder's lead skips that reminder (the
// confirmation just told them). The time a patient reads is the visit's start on their own wall clock, in
// their language: a patient in Berlin of a 09:00 Ho Chi Minh City visit reads 03:00.
import { branchDay, zoneOf } from '../shared/calendar';

export type Reminder = '24h' | '2h';

const HOUR = 3600_000;

/** How long before the start each reminder goes out, latest-first (the 2 h one replaces a 24 h one not yet sent). */
export const REMINDER_LEAD: Record<Reminder, number> = { '24h': 24 * HOUR, '2h': 2 * HOUR };

/** The zone a patient without a known one reads times in: the clinics'. */

export interface RemindedVisit {
  status: string;
  startsAt: Date;
  /** When it was booked (the appointment row's creation: a hold is confirmed within minutes). */
  createdAt: Date;
  reminded24hAt: Date | null;
  reminded2hAt: Date | null;
}

/**
 * The reminder a booked visit is due at `now`, if any: the rule in one place, readable and tested without a
 * database. The cron claims many visits at once with its SQL form (cron/reminders-due.ts) and checks each
 * claimed one against this.
 * - 24 h: from 24 h before the start until the 2 h one is due, once, and only if booked at least 24 h ahead.
 * - 2 h: from 2 h before the start while the visit is still ahead, once, and only if booked at least 2 h ahead.
 */
export function reminderDue(v: RemindedVisit, now: Date): Reminder | undefined {
  if (v.status !== 'booked') return undefined;
  const start = v.startsAt.getTime();
  const t = now.getTime();
  if (t >= start) return undefined;
  const bookedAhead = start - v.createdAt.getTime();
  if (t >= start - REMINDER_LEAD['2h']) return !v.reminded2hAt && bookedAhead >= REMINDER_LEAD['2h'] ? '2h' : undefined;
  if (t >= start - REMINDER_LEAD['24h']) return !v.reminded24hAt && !v.reminded2hAt && bookedAhead >= REMINDER_LEAD['24h'] ? '24h' : undefined;
  return undefined;
}

// How a patient reads an instant (their date, time, weekday, in their language) lives in shared/calendar.ts.
export { languageOf, localWhen, type Language, type LocalWhen } from '../shared/calendar';
