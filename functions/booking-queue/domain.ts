// Booking-queue domain rules shared by its functions: what a booking event says, how a queue is ordered,
// how long a patient will wait. Plumbing (HTTP, events, transactions) lives in functions/shared.
import { randomUUID } from 'node:crypto';
import { Prisma, tableOf, type Tx } from '../shared/db';
import type { Booking, Branch, Slot, Ticket } from '../shared/generated/prisma/client';
import { conflict } from '../shared/domain-errors';
import { system, type BookingQueueEmit as Emit } from './system';
import { branchDateSql, dayStartSql } from './calendar';

const slotTable = tableOf(system, 'slot');
const bookingTable = tableOf(system, 'booking');
const bookingStatus = tableOf(system, 'booking_status');
const branchTimezone = Prisma.raw('b.timezone');

export type BookingStatus = Booking['status'];
export type Lane = Ticket['lane'];

/** Status moves a booking may make; anything else is a 409. */
const NEXT: Record<BookingStatus, BookingStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['checked_in', 'cancelled', 'no_show'],
  checked_in: ['completed', 'no_show'],
  completed: [],
  cancelled: [],
  no_show: [],
};

/** Statuses in which a booking holds its place. */
export const ACTIVE: BookingStatus[] = ['pending', 'confirmed', 'checked_in'];

/** `field` names what asked for the move, e.g. status or bookingId. */
export function assertTransition(from: BookingStatus, to: BookingStatus, field = 'bookingId'): void {
  if (!NEXT[from].includes(to)) throw conflict(`a ${from} booking cannot become ${to}`, field);
}

export function bookingFacts(booking: Booking, slot: Slot) {
  return {
    bookingId: booking.id,
    patientId: booking.patientId,
    slotId: slot.id,
    branchId: slot.branchId,
    serviceId: slot.serviceId,
    startsAt: slot.startsAt.toISOString(),
    status: booking.status,
  };
}

export function bookingView(booking: Booking, slot: Slot) {
  return {
    ...bookingFacts(booking, slot),
    endsAt: slot.endsAt.toISOString(),
    channel: booking.channel,
    cancelReason: booking.cancelReason,
    createdAt: booking.createdAt.toISOString(),
    updatedAt: booking.updatedAt.toISOString(),
  };
}

/** A slot's columns as the Slot model names them, for raw statements on hot paths (`alias`: the slot table's, if any). */
function slotColumns(alias?: string): Prisma.Sql {
  const c = (column: string) => (alias ? `${alias}.${column}` : column);
  return Prisma.raw(`${c('id')}::text AS id, ${c('branch_id')} AS "branchId", ${c('service_id')} AS "serviceId", ${c('starts_at')} AS "startsAt",
    ${c('ends_at')} AS "endsAt", ${c('capacity')}, ${c('booked')}, ${c('status')}::text AS status, ${c('created_at')} AS "createdAt", ${c('updated_at')} AS "updatedAt"`);
}

/**
 * Takes one place in a slot if the slot is open, in the future and not full. One conditional UPDATE: under
 * any number of concurrent bookers PostgreSQL re-checks `booked < capacity` on the locked row, so the
 * count can never pass capacity. It returns the slot as it now is; only a refusal reads it again, to say why.
 */
export async function takePlace(tx: Tx, slotId: string, now = new Date()): Promise<Slot | 'full' | 'closed' | 'past' | 'missing'> {
  const [taken] = await tx.$queryRaw<Slot[]>`
    UPDATE ${slotTable} SET booked = booked + 1, updated_at = now()
    WHERE id = ${slotId}::uuid AND status = 'open' AND starts_at > ${now} AND booked < capacity
    RETURNING ${slotColumns()}`;
  if (taken) return taken;
  const slot = await tx.slot.findUnique({ where: { id: slotId } });
  if (!slot) return 'missing';
  if (slot.status !== 'open') return 'closed';
  if (slot.startsAt <= now) return 'past';
  return 'full';
}

/** How many active bookings one patient may hold at one branch on one day (BOOKING_DAILY_LIMIT). */
export const DAILY_LIMIT = Number(process.env.BOOKING_DAILY_LIMIT ?? 3);

/** A slot with what booking a place in it needs: whether staff confirm, and the branch-local day it falls on. */
export type BookableSlot = Slot & { requiresConfirmation: boolean; dayStart: Date; dayEnd: Date };

/**
 * The slot a patient asks for, with the patient's day at its branch locked until the transaction ends (see
 * roomFor): one round trip. The day is the branch's calendar day (its time zone), computed by PostgreSQL.
 */
export async function lockPatientDay(tx: Tx, patientId: string, slotId: string): Promise<BookableSlot | undefined> {
  const [slot] = await tx.$queryRaw<Array<BookableSlot & { locked: boolean }>>`
    SELECT ${slotColumns('s')}, v.requires_confirmation AS "requiresConfirmation",
      ${dayStartSql(Prisma.raw('d.day'), branchTimezone)} AS "dayStart", ${dayStartSql(Prisma.raw('d.day + 1'), branchTimezone)} AS "dayEnd",
      (SELECT true FROM pg_advisory_xact_lock(3, hashtext(${patientId} || '/' || s.branch_id || '/' || to_char(d.day, 'YYYY-MM-DD')))) AS locked
    FROM ${slotTable} s JOIN ${tableOf(system, 'branch')} b ON b.id = s.branch_id JOIN ${tableOf(system, 'service')} v ON v.id = s.service_id,
      LATERAL (SELECT ${branchDateSql(Prisma.raw('s.starts_at'), branchTimezone)} AS day) d
    WHERE s.id = ${slotId}::uuid`;
  if (!slot) return undefined;
  const { locked: _, ...bookable } = slot;
  return bookable;
}

/**
 * Whether the patient may take a place in this slot: not a second active booking in it, and no more than
 * DAILY_LIMIT active bookings at its branch that day (`moving`: a booking of theirs that leaves a slot for
 * this one and so does not count). The slot comes from lockPatientDay, whose lock serialises one patient's
 * bookings at one branch and day, so two racing requests cannot both pass the count; the unique index
 * booking_one_active_per_patient_slot backs the first rule in the database itself.
 */
export async function roomFor(tx: Tx, patientId: string, slot: BookableSlot, moving?: string): Promise<'already-booked' | 'daily-limit' | undefined> {
  const held = await tx.$queryRaw<Array<{ slotId: string }>>`
    SELECT b.slot_id::text AS "slotId" FROM ${bookingTable} b JOIN ${slotTable} s ON s.id = b.slot_id
    WHERE b.patient_id = ${patientId} AND b.status::text = ANY(${ACTIVE}) AND s.branch_id = ${slot.branchId}
      AND s.starts_at >= ${slot.dayStart} AND s.starts_at < ${slot.dayEnd}
      ${moving ? Prisma.sql`AND b.id <> ${moving}::uuid` : Prisma.empty}`;
  if (held.some((b) => b.slotId === slot.id)) return 'already-booked';
  if (held.length >= DAILY_LIMIT) return 'daily-limit';
  return undefined;
}

export async function releasePlace(tx: Tx, slotId: string): Promise<Slot> {
  await tx.slot.updateMany({ where: { id: slotId, booked: { gt: 0 } }, data: { booked: { decrement: 1 } } });
  return tx.slot.findUniqueOrThrow({ where: { id: slotId } });
}

/** What slot.allocated and slot.released say: the slot's count after the change. */
export function placeFacts(slot: Slot, bookingId: string) {
  return { slotId: slot.id, bookingId, booked: slot.booked, capacity: slot.capacity };
}

/**
 * A place just taken (takePlace) becomes a booking: pending when the service wants staff to confirm it,
 * otherwise confirmed. Its events commit with it.
 */
export async function bookPlace(tx: Tx, emit: Emit, place: Slot, request: { patientId: string; idempotencyKey?: string; channel: string; requiresConfirmation: boolean; requestId?: string }): Promise<Booking> {
  const [booking] = await tx.$queryRaw<Booking[]>`
    INSERT INTO ${bookingTable} (id, slot_id, patient_id, status, idempotency_key, channel, created_at, updated_at)
    VALUES (${randomUUID()}::uuid, ${place.id}::uuid, ${request.patientId}, ${request.requiresConfirmation ? 'pending' : 'confirmed'}::${bookingStatus},
      ${request.idempotencyKey ?? null}, ${request.channel}, now(), now())
    RETURNING ${BOOKING_COLUMNS}`;
  const facts = { ...bookingFacts(booking, place), ...(request.requestId ? { requestId: request.requestId } : {}) };
  if (booking.status === 'confirmed') await emit('com.medlab.booking.confirmed', facts);
  else await emit('com.medlab.booking.pending', facts);
  await emit('com.medlab.slot.allocated', placeFacts(place, booking.id));
  return booking;
}

const BOOKING_COLUMNS = Prisma.sql`id::text AS id, slot_id::text AS "slotId", patient_id AS "patientId", status::text AS status,
  idempotency_key AS "idempotencyKey", channel, cancel_reason AS "cancelReason", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Cancels a pending or confirmed booking and gives its place back, with both events. The status check is
 * part of the update, so two cancellations racing free the place once.
 */
export async function cancelBooking(tx: Tx, emit: Emit, booking: Booking, reason: string | null, cancelledBy: 'patient' | 'staff' | 'service', field = 'bookingId') {
  assertTransition(booking.status, 'cancelled', field);
  const moved = await tx.booking.updateMany({ where: { id: booking.id, status: { in: ['pending', 'confirmed'] } }, data: { status: 'cancelled', cancelReason: reason } });
  if (!moved.count) throw conflict('the booking changed meanwhile; it can no longer be cancelled', field);
  const cancelled = await tx.booking.findUniqueOrThrow({ where: { id: booking.id } });
  const slot = await releasePlace(tx, booking.slotId);
  await emit('com.medlab.booking.cancelled', { ...bookingFacts(cancelled, slot), reason: cancelled.cancelReason, cancelledBy });
  await emit('com.medlab.slot.released', placeFacts(slot, cancelled.id));
  return { cancelled, slot };
}

// ---------- queue ----------

export const queueId = (branchId: string, serviceId: string) => `${branchId}/${serviceId}`;

/** Serialises changes to one queue (numbering, ordering, events in order) across every replica. */
export async function lockQueue(tx: Tx, branchId: string, serviceId: string): Promise<void> {
  // Two-key form, namespace 2: apart from the outbox publisher's lock (namespace 1).
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(2, hashtext(${queueId(branchId, serviceId)}))`;
}


export function ticketNumber(prefix: string, seq: number): string {
  return `${prefix}-${String(seq).padStart(3, '0')}`;
}

/** Waiting tickets in the order call-next serves them: lane priority (branch setting), then arrival. */
export async function waitingLine(tx: Tx, branch: Branch, serviceId: string, day: string): Promise<Ticket[]> {
  const waiting = await tx.ticket.findMany({
    where: { branchId: branch.id, serviceId, day, status: 'waiting' },
    orderBy: { seq: 'asc' },
  });
  const rank = (lane: Lane) => {
    const i = branch.laneOrder.indexOf(lane);
    return i === -1 ? branch.laneOrder.length : i;
  };
  return waiting.sort((a, b) => rank(a.lane) - rank(b.lane) || a.seq - b.seq);
}

/**
 * Minutes one patient takes at a counter: the mean of the last 20 served tickets of this queue today,
 * or the service's nominal duration before anyone has been served.
 */
export async function minutesPerPatient(tx: Tx, branchId: string, serviceId: string, day: string, nominal: number): Promise<number> {
  const recent = await tx.ticket.findMany({
    where: { branchId, serviceId, day, status: 'served', calledAt: { not: null }, servedAt: { not: null } },
    orderBy: { servedAt: 'desc' },
    take: 20,
    select: { calledAt: true, servedAt: true },
  });
  if (!recent.length) return nominal;
  const total = recent.reduce((sum, t) => sum + (t.servedAt!.getTime() - t.calledAt!.getTime()), 0);
  return Math.max(1, total / recent.length / 60000);
}

/** Counters that called someone in the last 30 minutes share the line; at least one is assumed. */
export async function activeCounters(tx: Tx, branchId: string, serviceId: string, day: string, now = new Date()): Promise<number> {
  const rows = await tx.ticket.findMany({
    where: { branchId, serviceId, day, calledAt: { gte: new Date(now.getTime() - 30 * 60000) }, counter: { not: null } },
    distinct: ['counter'],
    select: { counter: true },
  });
  return Math.max(1, rows.length);
}

export function etaMinutes(ahead: number, perPatient: number, counters: number): number {
  return Math.round((ahead * perPatient) / counters);
}

export function ticketFacts(t: Ticket) {
  return {
    ticketId: t.id,
    number: t.number,
    branchId: t.branchId,
    serviceId: t.serviceId,
    lane: t.lane,
    patientId: t.patientId,
    bookingId: t.bookingId,
    queueId: queueId(t.branchId, t.serviceId),
  };
}

/** How many upcoming patients get a queue.position-changed event when the line moves. */
export const NOTIFY_POSITIONS = Number(process.env.QUEUE_NOTIFY_POSITIONS ?? 5);

export type TicketStatus = Ticket['status'];

/** A booked patient arriving up to this many minutes after their slot starts still counts as on time. */
export const ON_TIME_MINUTES = 15;

/** A booked patient's lane: their tier first, then punctuality (late arrivals queue as walk-ins). */
export function bookedLane(startsAt: Date, now: Date, tier: 'svip' | 'vip' | undefined): Lane {
  if (tier) return tier;
  return now.getTime() <= startsAt.getTime() + ON_TIME_MINUTES * 60000 ? 'booked' : 'walkin';
}

/** Takes the next number of a queue's day (numbers restart daily: A-001, A-002, ...). Call under lockQueue. */
export async function issueTicket(
  tx: Tx,
  t: { branchId: string; service: { id: string; ticketPrefix: string }; day: string; lane: Lane; patientId: string | null; bookingId: string | null; now: Date },
): Promise<Ticket> {
  const last = await tx.ticket.aggregate({ where: { branchId: t.branchId, serviceId: t.service.id, day: t.day }, _max: { seq: true } });
  const seq = (last._max.seq ?? 0) + 1;
  return tx.ticket.create({
    data: {
      branchId: t.branchId, serviceId: t.service.id, day: t.day, seq, number: ticketNumber(t.service.ticketPrefix, seq),
      lane: t.lane, patientId: t.patientId, bookingId: t.bookingId, issuedAt: t.now,
    },
  });
}

export interface Place {
  ticket: Ticket;
  /** 1-based place in the waiting line. */
  position: number;
  etaMinutes: number;
}

/** The waiting line of a queue's day with each ticket's position and expected wait. */
export async function placesInLine(tx: Tx, branch: Branch, service: { id: string; durationMinutes: number }, day: string, now: Date): Promise<Place[]> {
  const line = await waitingLine(tx, branch, service.id, day);
  const perPatient = await minutesPerPatient(tx, branch.id, service.id, day, service.durationMinutes);
  const counters = await activeCounters(tx, branch.id, service.id, day, now);
  return line.map((ticket, ahead) => ({ ticket, position: ahead + 1, etaMinutes: etaMinutes(ahead, perPatient, counters) }));
}

/** Where one waiting ticket stands now; undefined once it has left the line. */
export async function placeOf(tx: Tx, branch: Branch, service: { id: string; durationMinutes: number }, ticket: Ticket, now: Date): Promise<Place | undefined> {
  if (ticket.status !== 'waiting') return undefined;
  return (await placesInLine(tx, branch, service, ticket.day, now)).find((p) => p.ticket.id === ticket.id);
}

/** Reads a ticket after locking its queue, so its status cannot change under the caller. */
export async function lockTicket(tx: Tx, ticketId: string): Promise<Ticket | null> {
  const found = await tx.ticket.findUnique({ where: { id: ticketId }, select: { branchId: true, serviceId: true } });
  if (!found) return null;
  await lockQueue(tx, found.branchId, found.serviceId);
  return tx.ticket.findUnique({ where: { id: ticketId } });
}

/** The ticket a counter of this queue is attending to today, if any: one patient per counter. */
export function atCounter(tx: Tx, branchId: string, serviceId: string, day: string, counter: string): Promise<Ticket | null> {
  return tx.ticket.findFirst({ where: { branchId, serviceId, day, counter, status: 'called' } });
}

export type TicketAction = 'serve' | 'skip' | 'recall' | 'no-show';

/** Statuses each staff action may start from; anything else is a 409. */
const ACTION_FROM: Record<TicketAction, TicketStatus[]> = {
  serve: ['called'],
  skip: ['called'],
  recall: ['called', 'skipped'],
  'no-show': ['waiting', 'called', 'skipped'],
};

export function assertAction(status: TicketStatus, action: TicketAction): void {
  if (!ACTION_FROM[action].includes(status)) throw conflict(`cannot ${action} a ${status.replace('_', '-')} ticket`, 'action');
}

export const calledFacts = (t: Ticket, recall: boolean) => ({ ...ticketFacts(t), counter: t.counter!, recall });

export const servedFacts = (t: Ticket) => ({
  ...ticketFacts(t),
  counter: t.counter!,
  serviceSeconds: Math.max(0, Math.round((t.servedAt!.getTime() - t.calledAt!.getTime()) / 1000)),
});

/**
 * Moves a booking on if it is still in `from` (a conditional update, so a race cannot move it twice) and
 * returns the booking.status-changed data; null when the booking had already moved on.
 */
export async function moveBooking(tx: Tx, bookingId: string, from: BookingStatus, to: BookingStatus) {
  assertTransition(from, to);
  const moved = await tx.booking.updateMany({ where: { id: bookingId, status: from }, data: { status: to } });
  if (!moved.count) return null;
  const booking = await tx.booking.findUniqueOrThrow({ where: { id: bookingId }, include: { slot: true } });
  return { ...bookingFacts(booking, booking.slot), previousStatus: from };
}

/** What a ticket looks like to patients and staff; position and ETA only while it waits. */
export function ticketView(t: Ticket, place?: Place) {
  const { queueId: _queue, ...facts } = ticketFacts(t);
  return {
    ...facts,
    status: t.status,
    position: place?.position ?? null,
    etaMinutes: place?.etaMinutes ?? null,
    counter: t.counter,
    issuedAt: t.issuedAt.toISOString(),
    calledAt: t.calledAt?.toISOString() ?? null,
    servedAt: t.servedAt?.toISOString() ?? null,
  };
}
