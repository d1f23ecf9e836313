// Quiet hours on the patient's own clock: from start to end local time (21:00–07:00 runs across midnight,
// 12:00–13:30 within a day; equal start and end mean none). A non-critical notice due inside them waits
// until they end; a critical one never waits. Pure: the zone's rules come from Intl (calendar.ts).
import { addDays, branchDay, localTimeToUtc, zoneOf } from '../../shared/calendar';


export interface QuietHours { start: string; end: string }


const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock minute of the day an instant reads in a zone (0 … 1439). */
export function minuteOfDay(at: Date, timezone: string): number {
  let format = clockFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    clockFormats.set(timezone, format);
  }
  const [h, m] = format.format(at).split(':').map(Number);
  return h * 60 + m;
}

const minutes = (clock: string) => {
  const [h, m] = clock.split(':').map(Number);
  return h * 60 + m;
};

/**
 * When quiet hours that `at` falls inside end (the instant the notice may go), or undefined when `at` is
 * outside them. The start is quiet, the end is not: at 07:00 a 21:00–07:00 notice goes.
 */
export function quietUntil(at: Date, timezone: string, quiet: QuietHours): Date | undefined {
  const zone = zoneOf(timezone);
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  if (start === end) return undefined;
  const now = minuteOfDay(at, zone);
  const today = branchDay(at, zone);
  if (start < end) return now >= start && now < end ? localTimeToUtc(today, quiet.end, zone) : undefined;
  // Across midnight: the evening part ends tomorrow morning, the early-morning part this morning.
  if (now >= start) return localTimeToUtc(addDays(today, 1), quiet.end, zone);
  if (now < end) return localTimeToUtc(today, quiet.end, zone);
  return undefined;
}
