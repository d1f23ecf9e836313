// Local calendar: the day an instant falls on in a zone, and the instant a local wall-clock time happens.
// Dates are YYYY-MM-DD, times HH:MM. Every system's rules about "today", "that day" or "09:00 at the branch"
// go through here (booking-queue's slots, appointment schedules and reminders).

/** The branch-local calendar day of an instant, e.g. 2026-11-21 in Asia/Ho_Chi_Minh. */
export function branchDay(at: Date, timezone: string): string {
  // One formatter per timezone: building one costs far more than formatting (availability formats thousands).
  let format = dayFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timezone, format);
  }
  return format.format(at);
}
const dayFormats = new Map<string, Intl.DateTimeFormat>();

const DAY_MS = 86_400_000;

const dateParts = (date: string) => date.split('-').map(Number) as [number, number, number];

export function addDays(date: string, days: number): string {
  const [y, m, d] = dateParts(date);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to`, both included (0 when `to` is before `from`). */
export function daysCovered(from: string, to: string): number {
  const [fy, fm, fd] = dateParts(from);
  const [ty, tm, td] = dateParts(to);
  return Math.max(0, Math.round((Date.UTC(ty, tm - 1, td) - Date.UTC(fy, fm - 1, fd)) / DAY_MS) + 1);
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const [y, m, d] = dateParts(date);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at an instant, in milliseconds. */
function zoneOffset(instant: number, timezone: string): number {
  let format = offsetFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    offsetFormats.set(timezone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a branch-local wall-clock time happens, e.g. 2026-12-01 08:00 in Asia/Ho_Chi_Minh is
 * 2026-12-01T01:00Z. Across a daylight-saving change a time that occurs twice means its first occurrence,
 * and a time the clock skips is moved forward by the gap (02:30 on a spring-forward night becomes 03:30).
 */
export function localTimeToUtc(date: string, time: string, timezone: string): Date {
  const [y, m, d] = dateParts(date);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  // The offset at the wall time read as UTC is at most a day off the real one; try both offsets around it
  // and keep the earliest candidate whose wall clock reads back as asked.
  const offsets = new Set([zoneOffset(wall - DAY_MS, timezone), zoneOffset(wall, timezone), zoneOffset(wall + DAY_MS, timezone)]);
  const candidates = [...offsets].map((o) => wall - o).filter((t) => t + zoneOffset(t, timezone) === wall).sort((a, b) => a - b);
  return new Date(candidates[0] ?? wall - zoneOffset(wall - DAY_MS, timezone));
}

/** The instants a branch-local day begins and ends (the next day's midnight). */
export function dayBounds(date: string, timezone: string): { start: Date; end: Date } {
  return { start: localTimeToUtc(date, '00:00', timezone), end: localTimeToUtc(addDays(date, 1), '00:00', timezone) };
}

/** The clinics' zone: where a branch, a patient or a profile says none (or one Intl does not know). */
export const DEFAULT_ZONE = 'Asia/Ho_Chi_Minh';

/** A zone Intl knows, or the clinics' (a bad zone in a profile must not stop a patient's notices). */
export function zoneOf(timezone: string | null | undefined): string {
  if (!timezone) return DEFAULT_ZONE;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return timezone;
  } catch {
    return DEFAULT_ZONE;
  }
}

/** The languages the portal writes in. */
export type Language = 'vi' | 'en';

/** A language the portal writes in; anything else reads Vietnamese (the clinics' language). */
export const languageOf = (language: string | null | undefined): Language => (language === 'en' ? 'en' : 'vi');


const formats = new Map<string, Intl.DateTimeFormat>();
function format(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = formats.get(key);
  if (!f) formats.set(key, (f = make()));
  return f;
}

export interface LocalWhen {
  /** YYYY-MM-DD on the patient's calendar. */
  localDate: string;
  /** HH:MM on the patient's clock (24-hour). */
  localTime: string;
  /** The day's name in the patient's language: "Thứ Ba", "Tuesday". */
  weekday: string;
  /** The zone these are in. */
  timezone: string;
  language: Language;
}

/** An instant as a patient reads it: their date, clock time and weekday, in their zone and language. */
export function localWhen(instant: Date | string, timezone?: string | null, language?: string | null): LocalWhen {
  const at = typeof instant === 'string' ? new Date(instant) : instant;
  const zone = zoneOf(timezone);
  const lang = languageOf(language);
  const time = format(`time:${zone}`, () => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }));
  const weekday = format(`weekday:${zone}:${lang}`, () => new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: zone, weekday: 'long' }));
  return { localDate: branchDay(at, zone), localTime: time.format(at), weekday: weekday.format(at), timezone: zone, language: lang };
}
