// Rules the slot and booking routes share beyond domain.ts: finding a booking the caller may touch,
// taking a place or saying why not, and what a slot looks like to callers.
import { tableOf, type Tx } from '../shared/db';
import type { Caller } from '../shared/auth';
import { mayView } from '../shared/access';
import { conflict, notFound } from '../shared/domain-errors';
import type { Slot } from '../shared/generated/prisma/client';
import { lockPatientDay, roomFor, takePlace, type BookableSlot } from './domain';
import { system } from './system';

const bookingTable = tableOf(system, 'booking');
const slotTable = tableOf(system, 'slot');

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
export async function lockBookingFor(tx: Tx, caller: Caller, bookingId: string, field = 'bookingId') {
  await tx.$queryRaw`SELECT id FROM ${bookingTable} WHERE id = ${bookingId}::uuid FOR UPDATE`;
  return findBookingFor(tx, caller, bookingId, field);
}

/** The booking and its slot if the caller may see it (same rules as lockBookingFor, without the lock). */
export async function findBookingFor(tx: Tx, caller: Caller, bookingId: string, field = 'bookingId') {
  const booking = await tx.booking.findUnique({ where: { id: bookingId }, include: { slot: true } });
  if (!booking || !mayView(caller, { patientId: booking.patientId, branchId: booking.slot.branchId })) throw notFound(field, 'no such booking');
  return booking;
}

const PLACE_REFUSALS = {
  full: 'the slot is full',
  closed: 'the slot is closed for booking',
  past: 'the slot has already started',
  'already-booked': 'the patient already holds a place in this slot',
  'daily-limit': 'the patient holds as many bookings at this branch that day as one patient may',
} as const;

/** The slot, if the patient may take a place in it (roomFor), or the refusal against slotId. */
export async function roomIn(tx: Tx, patientId: string, slotId: string, moving?: string): Promise<BookableSlot> {
  const slot = await lockPatientDay(tx, patientId, slotId);
  if (!slot) throw notFound('slotId', 'no such slot');
  const refusal = await roomFor(tx, patientId, slot, moving);
  if (refusal) throw conflict(PLACE_REFUSALS[refusal], 'slotId');
  return slot;
}

/** Takes one place in the slot (see takePlace) or says, against slotId, why it cannot. */
export async function placeIn(tx: Tx, slotId: string): Promise<Slot> {
  const place = await takePlace(tx, slotId);
  if (place === 'missing') throw notFound('slotId', 'no such slot');
  if (typeof place === 'string') throw conflict(PLACE_REFUSALS[place], 'slotId');
  return place;
}

/** Row locks on several slots in one fixed order, so two opposite moves between them cannot deadlock. */
export async function lockSlots(tx: Tx, slotIds: string[]): Promise<void> {
  for (const id of [...slotIds].sort()) await tx.$queryRaw`SELECT id FROM ${slotTable} WHERE id = ${id}::uuid FOR UPDATE`;
}
