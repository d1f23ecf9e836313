// Appointment rules shared by the system's functions: what an appointment event and view say, which status
// moves are allowed, the calendars of a branch's resources, and placing a visit on them. Placing never
// double-books a resource because the database refuses overlapping holdings (resource_booking_no_overlap);
// the check before the insert only picks which free resources to try.
import { Prisma, isExclusionViolation, tableOf, type Db, type Tx } from '../shared/db';
import type { Appointment, AppointmentStatus, PaymentStatus, Resource, ScheduleException, VisitType } from '../shared/generated/prisma/client';
import { conflict, invalid, notFound } from '../shared/domain-errors';
import { mayView } from '../shared/access';
import type { Caller } from '../shared/auth';
import { DEFAULT_ZONE } from '../shared/calendar';
import { wholeSetting } from '../shared/config';
import { contains, findSlots, matches, workingIntervals, type Candidate, type Interval, type Requirement, type ResourceCalendar, type WeeklyHours } from './schedule';
import { system } from './system';

const holdingTable = tableOf(system, 'resource_booking');

const minutesSetting = (name: string, fallback: number) => wholeSetting(name, fallback, 'minutes');
/** How long a hold keeps its resources while the patient confirms (Cal.com users ask for ~5 minutes). */
export const holdMinutes = () => minutesSetting('APPOINTMENT_HOLD_MINUTES', 5);
/** How long a booked visit that must be paid first waits for the POS before its resources go back. */
export const paymentMinutes = () => minutesSetting('APPOINTMENT_PAYMENT_MINUTES', 30);

// ---------- statuses: the database's enum names and FHIR's codes ----------

export type FhirStatus = 'proposed' | 'pending' | 'booked' | 'arrived' | 'checked-in' | 'fulfilled' | 'cancelled' | 'noshow' | 'entered-in-error' | 'waitlist';
export type FhirPayment = 'not-required' | 'awaiting' | 'paid' | 'refunded';

export const fhirStatus = (s: AppointmentStatus) => s.replace(/_/g, '-') as FhirStatus;
export const dbStatus = (s: FhirStatus) => s.replace(/-/g, '_') as AppointmentStatus;
export const fhirPayment = (s: PaymentStatus) => s.replace(/_/g, '-') as FhirPayment;

/** Statuses a visit may still be moved or cancelled in (it has not begun). */
export const MOVABLE: AppointmentStatus[] = ['proposed', 'pending', 'booked'];

/** FHIR Appointment status moves; anything else is a 409. */
const NEXT: Record<AppointmentStatus, AppointmentStatus[]> = {
  proposed: ['pending', 'booked', 'cancelled'],
  pending: ['booked', 'cancelled'],
  booked: ['arrived', 'checked_in', 'cancelled', 'noshow', 'entered_in_error'],
  arrived: ['checked_in', 'fulfilled', 'entered_in_error'],
  checked_in: ['fulfilled', 'entered_in_error'],
  waitlist: ['booked', 'cancelled'],
  fulfilled: ['entered_in_error'],
  cancelled: [],
  noshow: ['entered_in_error'],
  entered_in_error: [],
};

export function assertMove(from: AppointmentStatus, to: AppointmentStatus, field = 'appointmentId'): void {
  if (!NEXT[from].includes(to)) throw conflict(`a ${fhirStatus(from)} appointment cannot become ${fhirStatus(to)}`, field);
}

// ---------- what events and answers say ----------

const iso = (d: Date) => d.toISOString();

/** The visit as every appointment event carries it: ids, times and codes, nothing about the person. */
export function facts(a: Appointment) {
  return {
    appointmentId: a.id, patientId: a.patientId, branchId: a.branchId, visitTypeId: a.visitTypeId,
    start: iso(a.startsAt), end: iso(a.endsAt), status: fhirStatus(a.status), paymentStatus: fhirPayment(a.paymentStatus),
  };
}

export function appointmentView(a: Appointment, resourceIds?: string[]) {
  return {
    ...facts(a),
    ...(a.holdExpiresAt ? { holdExpiresAt: iso(a.holdExpiresAt) } : {}),
    ...(a.cancelReason ? { cancelReason: a.cancelReason, ...(a.cancelNote ? { cancelNote: a.cancelNote } : {}) } : {}),
    ...(a.notes ? { notes: a.notes } : {}),
    ...(resourceIds ? { resourceIds } : {}),
    patientTimezone: a.patientTimezone,
    language: a.language,
  };
}

// ---------- visit types and calendars ----------

export type VisitTypeRules = VisitType & { needs: Requirement[] };

export async function visitTypeOf(db: Db | Tx, visitTypeId: string): Promise<VisitTypeRules> {
  const found = await db.visitType.findUnique({ where: { id: visitTypeId } });
  if (!found || !found.active) throw notFound('visitTypeId');
  return { ...found, needs: found.requirements as unknown as Requirement[] };
}

export const asCalendar = (r: Resource & { exceptions: ScheduleException[] }, busy: Interval[] = []): ResourceCalendar => ({
  id: r.id, kind: r.kind, capabilities: r.capabilities, timezone: r.timezone, hours: r.hours as WeeklyHours,
  exceptions: r.exceptions.map((e) => ({ kind: e.kind, start: e.startsAt.getTime(), end: e.endsAt.getTime() })),
  busy,
});

/**
 * The calendars of a branch's active resources that can serve any of the requirements, within [from, to):
 * hours, exceptions and what is booked on each. `moving` leaves out that appointment's own holdings (it
 * does not block its own new time).
 */
export async function calendars(db: Db | Tx, branchId: string, needs: Requirement[], from: Date, to: Date, options: { moving?: string; lock?: boolean } = {}): Promise<ResourceCalendar[]> {
  const { moving } = options;
  const resources = (await db.resource.findMany({
    where: { branchId, active: true, kind: { in: [...new Set(needs.map((n) => n.kind))] } },
    include: { exceptions: { where: { startsAt: { lt: to }, endsAt: { gt: from } } } },
    orderBy: { name: 'asc' },
  })).filter((r) => needs.some((n) => matches(n, r)));
  if (!resources.length) return [];
  if (options.lock) await lockResources(db as Tx, resources.map((r) => r.id));
  // Plain comparisons on the (resource_id, starts_at) btree, bounded below by the longest a holding can last
  // (a visit type is at most 12 hours): the exclusion constraint's GiST index answers the same question, but
  // the planner has no statistics on its range expression and reads far more (bench row 10: 111 ms vs 3 ms).
  const busy = await db.$queryRaw<Array<{ resource_id: string; starts_at: Date; ends_at: Date }>>`
    SELECT resource_id::text, starts_at, ends_at FROM ${holdingTable}
    WHERE resource_id = ANY(${resources.map((r) => r.id)}::uuid[]) AND released_at IS NULL
      AND starts_at < ${to}::timestamptz AND starts_at > ${new Date(from.getTime() - MAX_HOLDING_MS)}::timestamptz AND ends_at > ${from}::timestamptz
      AND (${moving ?? null}::uuid IS NULL OR appointment_id <> ${moving ?? null}::uuid)`;
  const byResource = new Map<string, Interval[]>();
  for (const b of busy) {
    const list = byResource.get(b.resource_id) ?? [];
    list.push({ start: b.starts_at.getTime(), end: b.ends_at.getTime() });
    byResource.set(b.resource_id, list);
  }
  return resources.map((r) => asCalendar(r, byResource.get(r.id)));
}

/** The branch's zone: its resources' (a branch has one); Ho Chi Minh City for a branch with none yet. */
export async function branchZone(db: Db | Tx, branchId: string): Promise<string> {
  const one = await db.resource.findFirst({ where: { branchId }, select: { timezone: true } });
  return one?.timezone ?? DEFAULT_ZONE;
}

/** Advisory-lock namespace of resources being placed on (booking-queue uses 2 and 3, dead-letter 8). */
const RESOURCE_LOCKS = 21;

/**
 * Placements that could take the same resources run one after another until they commit, each locking the
 * candidates in id order (so two never wait on each other in a circle). Without it, concurrent inserts that
 * overlap wait on each other inside the exclusion constraint, and PostgreSQL breaks that tie as a deadlock.
 * The constraint still decides; the lock only makes the loser see the winner's holding when it reads.
 */
async function lockResources(tx: Tx, resourceIds: string[]): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RESOURCE_LOCKS}::int, hashtext(id)) FROM unnest(${[...resourceIds].sort()}::text[]) AS id ORDER BY id`;
}

/** The longest a visit (so a holding) can last: visit-type-save allows 720 minutes. */
const MAX_HOLDING_MS = 12 * 3600_000;

/** What a requirement is called in a refusal: "general-practice practitioner", "ecg device". */
const named = (n: Requirement) => [n.capability, n.kind].filter(Boolean).join(' ');

/**
 * One free resource per requirement of the visit type at exactly [start, start + duration), or the refusal
 * that says why not: the time is outside every schedule (400, start) or everything that could serve is taken (409).
 */
export async function placeFor(tx: Tx, visitType: VisitTypeRules, branchId: string, start: Date, moving?: string): Promise<Candidate> {
  const end = new Date(start.getTime() + visitType.durationMinutes * 60_000);
  const found = await calendars(tx, branchId, visitType.needs, start, end, { moving, lock: true });
  const at = (cals: ResourceCalendar[]) => findSlots({ requirements: visitType.needs, resources: cals, durationMinutes: visitType.durationMinutes, from: start.getTime(), to: end.getTime(), stepMinutes: 1, limit: 1 })
    .find((c) => c.start === start.getTime());
  const place = at(found);
  if (place) return place;
  // Which need fails, and why: nobody who could serve it works then (outside the schedules), or all who do are booked.
  for (const need of visitType.needs) {
    const works = found.some((c) => matches(need, c) && contains(workingIntervals(c, start.getTime(), end.getTime()), start.getTime(), end.getTime()));
    if (!works) throw invalid(`no ${named(need)} of branch ${branchId} works from ${start.toISOString()} for ${visitType.durationMinutes} minutes (outside the schedule)`, 'start');
  }
  throw conflict(`that time is taken: ${visitType.needs.map(named).join(', ')} are not all free from ${start.toISOString()}`, 'start');
}

/**
 * The visit's holdings, one row per resource in resource order (two visits taking the same resources queue,
 * never deadlock). false when the database refused an overlap: a concurrent booking took one of them after
 * the calendars were read. A savepoint keeps the transaction usable, so the caller can look again.
 */
export async function takeResources(tx: Tx, appointmentId: string, place: Candidate): Promise<boolean> {
  const rows = [...place.resourceIds].sort().map((resourceId) => Prisma.sql`(${appointmentId}::uuid, ${resourceId}::uuid, ${new Date(place.start)}, ${new Date(place.end)})`);
  await tx.$executeRaw`SAVEPOINT take_resources`;
  try {
    await tx.$executeRaw`INSERT INTO ${holdingTable} (appointment_id, resource_id, starts_at, ends_at) VALUES ${Prisma.join(rows)}`;
  } catch (err) {
    if (!isExclusionViolation(err, 'resource_booking_no_overlap')) throw err;
    await tx.$executeRaw`ROLLBACK TO SAVEPOINT take_resources`;
    return false;
  }
  await tx.$executeRaw`RELEASE SAVEPOINT take_resources`;
  return true;
}

/**
 * Places the visit at `start` and takes its resources. When a concurrent booking took one between the read
 * and the insert (the database refused the overlap, after waiting for that booking to commit), the
 * calendars are read again: other free resources are tried, or the refusal says the time is taken.
 */
export async function takePlace(tx: Tx, appointmentId: string, visitType: VisitTypeRules, branchId: string, start: Date, moving?: string): Promise<Candidate> {
  for (let attempt = 1; ; attempt++) {
    const place = await placeFor(tx, visitType, branchId, start, moving);
    if (await takeResources(tx, appointmentId, place)) return place;
    // Each refusal means a competing booking committed there, so the calendars read next see it: this ends
    // once the time is found taken; the bound only guards against a bug.
    if (attempt >= 25) throw conflict('that time was just taken by another booking; choose another', 'start');
  }
}

/** The visit's holdings in force end now: its resources are free again for its time. */
export async function releaseResources(tx: Tx, appointmentId: string, at = new Date()): Promise<number> {
  return tx.$executeRaw`UPDATE ${holdingTable} SET released_at = ${at} WHERE appointment_id = ${appointmentId}::uuid AND released_at IS NULL`;
}

export async function heldResources(db: Db | Tx, appointmentId: string): Promise<string[]> {
  const rows = await db.resourceBooking.findMany({ where: { appointmentId, releasedAt: null }, select: { resourceId: true }, orderBy: { resourceId: 'asc' } });
  return rows.map((r) => r.resourceId);
}

/**
 * Runs a whole placement again when the database refused an overlap that escaped the savepoint (work that
 * inserts holdings itself). Outside a transaction only: a refused statement ends the transaction it ran in.
 */
export async function placing<R>(work: () => Promise<R>, attempts = 3): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isExclusionViolation(err, 'resource_booking_no_overlap')) throw err;
      if (attempt >= attempts) throw conflict('that time was just taken by another booking; choose another', 'start');
    }
  }
}

/** A line on the visit's timeline: codes and ids only. */
export function note(tx: Tx, appointmentId: string, kind: string, by: string, detail: Record<string, unknown> = {}, at?: Date) {
  return tx.timelineEntry.create({ data: { appointmentId, kind, by, detail: detail as Prisma.InputJsonValue, ...(at ? { at } : {}) } });
}

/** The appointment locked for a change (FOR UPDATE), or undefined. */
export async function lockAppointment(tx: Tx, appointmentId: string): Promise<Appointment | undefined> {
  const [row] = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM ${tableOf(system, 'appointment')} WHERE id = ${appointmentId}::uuid FOR UPDATE`;
  return row ? (await tx.appointment.findUniqueOrThrow({ where: { id: row.id } })) : undefined;
}

/** Less than a day before the visit: a change the patient must hear at once, whatever the hour. */
export const sameDay = (a: Appointment, now = new Date()) => a.startsAt.getTime() - now.getTime() < 24 * 3600_000;

// ---------- who asks, and for whom ----------

/** Who did it, as the timeline records it (shared/access.ts). */
export { actorOf as actor } from '../shared/access';

/** A start the patient can still come to. */
export function futureStart(start: string, now = new Date()): Date {
  const at = new Date(start);
  if (at.getTime() <= now.getTime()) throw invalid('must be in the future', 'start');
  return at;
}

/** An IANA zone the runtime knows (reminders are written in it). */
export function knownZone(zone: string | undefined, field = 'patientTimezone'): string | undefined {
  if (zone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw invalid(`${zone} is not a known time zone`, field);
  }
  return zone;
}

/** The appointment, locked for a change, if the caller may see it; otherwise the same 404 as a missing one. */
export async function appointmentFor(tx: Tx, caller: Caller, appointmentId: string): Promise<Appointment> {
  const found = await lockAppointment(tx, appointmentId);
  if (!found || !mayView(caller, found)) throw notFound('appointmentId');
  return found;
}
