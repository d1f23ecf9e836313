// Rules the slot and booking routes share beyond domain.ts: finding a booking the caller may touch,
// taking a place or saying why not, what a slot looks like to callers, and branch-local calendar days.
import type { Tx } from '../shared/db';
import type { Caller } from '../shared/auth';
import { assertAccess } from '../shared/auth';
import { conflict, notFound } from '../shared/errors';
import type { Slot } from '../shared/generated/prisma/client';
import { takePlace } from './domain';

export function slotView(slot: Slot) {
  return {
    slotId: slot.id,
    branchId: slot.branchId,
    serviceId: slot.serviceId,
    startsAt: slot.startsAt.toISOString(),
    endsAt: slot.endsAt.toISOString(),
    capacity: slot.capacity,
    booked: slot.booked,
    status: slot.status,
  };
}

/**
 * The booking, locked until the transaction ends, if the caller may act on it. The lock makes two
 * concurrent changes (a double cancel, a cancel racing a reschedule) run one after the other, so a place
 * is never released twice. Patients are told "not found" for other patients' bookings: they learn nothing
 * about them, not even that they exist.
 */
export async function lockBookingFor(tx: Tx, caller: Caller, bookingId: string, field: string) {
  await tx.$queryRaw`SELECT id FROM booking WHERE id = ${bookingId}::uuid FOR UPDATE`;
  return findBookingFor(tx, caller, bookingId, field);
}

/** The booking and its slot if the caller may see it (same rules as lockBookingFor, without the lock). */
export async function findBookingFor(tx: Tx, caller: Caller, bookingId: string, field: string) {
  const booking = await tx.booking.findUnique({ where: { id: bookingId }, include: { slot: true } });
  if (!booking || (caller.role === 'patient' && booking.patientId !== caller.patientId)) throw notFound(field, 'no such booking');
  assertAccess(caller, { patientId: booking.patientId, branchId: booking.slot.branchId });
  return booking;
}

/** Takes one place in the slot (see takePlace) or says, against the field, why it cannot. */
export async function placeIn(tx: Tx, slotId: string, field: string): Promise<Slot> {
  const place = await takePlace(tx, slotId);
  if (place === 'full') throw conflict('the slot is full', field);
  if (place === 'closed') throw conflict('the slot is closed for booking', field);
  if (place === 'past') throw conflict('the slot has already started', field);
  if (place === 'missing') throw notFound(field, 'no such slot');
  return place;
}

/** Row locks on several slots in one fixed order, so two opposite moves between them cannot deadlock. */
export async function lockSlots(tx: Tx, slotIds: string[]): Promise<void> {
  for (const id of [...slotIds].sort()) await tx.$queryRaw`SELECT id FROM slot WHERE id = ${id}::uuid FOR UPDATE`;
}

// ---------- calendar: branch-local dates (YYYY-MM-DD) and times (HH:MM) ----------

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
