// Package bookings: what the routes and the booking consumer share. A package booking is asked of the booking
// queue (booking.requested, requestId = its id) and follows what the queue says on booking-events; its status
// only ever moves forward (moves()), so a late or repeated answer cannot undo a newer one.
import { tableOf, type Tx } from '../shared/db';
import type { Caller } from '../shared/auth';
import { mayView } from '../shared/access';
import { notFound } from '../shared/domain-errors';
import type { PackageBooking, PackageBookingStatus } from '../shared/generated/prisma/client';
import { DEFAULT_ZONE, localWhen } from '../shared/calendar';
import { system, type PatientBookingEmit } from './system';

const bookingTable = tableOf(system, 'package_booking');

export const bookingStatuses = ['requested', 'pending', 'confirmed', 'rejected', 'cancel_requested', 'cancelled', 'checked_in', 'completed', 'no_show'] as const satisfies readonly PackageBookingStatus[];

/** How far along a booking is. Terminal statuses share the top: nothing moves out of them. */
const RANK: Record<PackageBookingStatus, number> = {
  requested: 0, pending: 1, confirmed: 2, cancel_requested: 3, checked_in: 4,
  completed: 5, no_show: 5, rejected: 5, cancelled: 5,
};
const TERMINAL: ReadonlySet<PackageBookingStatus> = new Set(['completed', 'no_show', 'rejected', 'cancelled']);

export const isTerminal = (status: PackageBookingStatus) => TERMINAL.has(status);

/**
 * May a booking in `from` move to `to`? Only forward: a late 'confirmed' after 'checked_in' (or after the
 * patient asked to cancel) changes nothing, and nothing leaves an ended booking. From cancel_requested the
 * queue's word still wins when it is further along (checked in before the cancellation reached it).
 */
export function moves(from: PackageBookingStatus, to: PackageBookingStatus): boolean {
  return !TERMINAL.has(from) && RANK[to] > RANK[from];
}

/**
 * May the caller see this booking? Patients their own; staff of a branch the bookings at it (one the queue has
 * not placed yet has no branch: staff of every branch see it); services any. Answers alike for a booking
 * that does not exist and one the caller may not see.
 */
export function assertMayView(caller: Caller, booking: PackageBooking | null, field = 'bookingId'): PackageBooking {
  const unplaced = caller.role === 'staff' && booking && !booking.branchId;
  if (!booking || !(unplaced || mayView(caller, { patientId: booking.patientId, branchId: booking.branchId ?? '' }))) throw notFound(field, 'no such package booking');
  return booking;
}

/** The booking, locked until the transaction ends: a cancel and the queue's answer on it run one after the other. */
export async function lockBooking(tx: Tx, where: { id: string } | { queueBookingId: string }): Promise<PackageBooking | null> {
  if ('id' in where) await tx.$queryRaw`SELECT id FROM ${bookingTable} WHERE id = ${where.id}::uuid FOR UPDATE`;
  else await tx.$queryRaw`SELECT id FROM ${bookingTable} WHERE queue_booking_id = ${where.queueBookingId}::uuid FOR UPDATE`;
  return tx.packageBooking.findUnique({ where });
}

const uuid = { type: 'string', format: 'uuid' } as const;
const instant = { type: 'string', format: 'date-time' } as const;

/** A package booking as callers see it. */
export const packageBooking = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId', 'patientId', 'packageCode', 'packageVersion', 'priceVnd', 'slotId', 'serviceId', 'status', 'createdAt', 'updatedAt'],
  properties: {
    bookingId: uuid,
    patientId: { type: 'string' },
    packageCode: { type: 'string' },
    /** The package as it was when booked (its version and price then). */
    packageVersion: { type: 'integer' },
    priceVnd: { type: 'integer' },
    slotId: uuid,
    serviceId: { type: 'string' },
    /** Where and when: known once the booking queue has placed it. */
    branchId: { type: 'string' },
    startsAt: instant,
    status: { enum: bookingStatuses },
    /** The booking queue's booking, once it answered. */
    queueBookingId: uuid,
    /** Why the booking queue could not place it (slot-full, slot-closed …). */
    rejectReason: { type: 'string' },
    createdAt: instant,
    updatedAt: instant,
  },
} as const;

export function bookingView(b: PackageBooking) {
  return {
    bookingId: b.id,
    patientId: b.patientId,
    packageCode: b.packageCode,
    packageVersion: Number(b.packageVersion),
    priceVnd: Number(b.priceVnd),
    slotId: b.slotId,
    serviceId: b.serviceId,
    ...(b.branchId ? { branchId: b.branchId } : {}),
    ...(b.startsAt ? { startsAt: b.startsAt.toISOString() } : {}),
    status: b.status,
    ...(b.queueBookingId ? { queueBookingId: b.queueBookingId } : {}),
    ...(b.rejectReason ? { rejectReason: b.rejectReason } : {}),
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}

/** Where the portal polls a booking. */
export const locationOf = (bookingId: string) => `/api/package-bookings/detail?bookingId=${bookingId}`;

/**
 * The patient is told of their booking (confirmed, rejected, a reminder), with the time as the branch's clock
 * reads it: booking-events do not say the branch's zone, and every branch is in the clinics' (DEFAULT_ZONE).
 * Ids, codes and times only: not the package (its name can say what is tested). One notice per booking and
 * template, whichever event, redelivery or cron run brought it.
 */
export async function bookingNotice(emit: PatientBookingEmit, template: 'booking-confirmed' | 'booking-rejected' | 'booking-reminder', b: PackageBooking, extra: Record<string, string> = {}) {
  const when = b.startsAt ? localWhen(b.startsAt, DEFAULT_ZONE) : undefined;
  await emit('com.medlab.notification.requested', {
    requestId: `package-booking:${b.id}:${template}`,
    template, recipient: { kind: 'patient', patientId: b.patientId }, category: template === 'booking-reminder' ? 'reminder' : 'booking',
    variables: {
      bookingId: b.id, link: `/package-bookings/${b.id}`,
      ...(b.branchId ? { branchId: b.branchId } : {}),
      ...(when && b.startsAt ? { start: b.startsAt.toISOString(), localDate: when.localDate, localTime: when.localTime, timezone: when.timezone } : {}),
      ...extra,
    },
  });
}
