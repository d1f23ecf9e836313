// What the API does to a visit, each inside the caller's transaction with its events: open one (a hold or a
// booking), confirm a hold, move it (reschedule or another visit type: atomic, the old time stays the
// patient's until the new one is taken), cancel it, move its status. The routes are the stories; these are
// the steps they share.
import type { Tx } from '../shared/db';
import type { Appointment } from '../shared/generated/prisma/client';
import { conflict } from '../shared/domain-errors';
import {
  MOVABLE, assertMove, facts, fhirStatus, holdMinutes, note, paymentMinutes, releaseResources, sameDay, takePlace, type VisitTypeRules,
} from './appointments';
import type { Candidate } from './schedule';
import type { AppointmentEmit as Emit } from './system';

const minutesFrom = (now: Date, minutes: number) => new Date(now.getTime() + minutes * 60_000);

export interface NewVisit {
  patientId: string;
  branchId: string;
  visitType: VisitTypeRules;
  start: Date;
  patientTimezone?: string;
  language?: string;
  notes?: string;
  channel: string;
}

/** How a booked visit waits: booked at once, or pending with a payment deadline when it is paid first. */
function bookedState(visitType: VisitTypeRules, now: Date) {
  return visitType.requiresPayment
    ? { status: 'pending' as const, paymentStatus: 'awaiting' as const, holdExpiresAt: minutesFrom(now, paymentMinutes()) }
    : { status: 'booked' as const, holdExpiresAt: null };
}

/** A new visit that holds its resources: a short hold (proposed) or a booking. */
export async function openVisit(tx: Tx, emit: Emit, visit: NewVisit, as: 'hold' | 'book', by: string, now = new Date()): Promise<{ appointment: Appointment; place: Candidate }> {
  const state = as === 'hold' ? { status: 'proposed' as const, holdExpiresAt: minutesFrom(now, holdMinutes()) } : bookedState(visit.visitType, now);
  const appointment = await tx.appointment.create({
    data: {
      patientId: visit.patientId, branchId: visit.branchId, visitTypeId: visit.visitType.id,
      startsAt: visit.start, endsAt: minutesFrom(visit.start, visit.visitType.durationMinutes),
      ...state, notes: visit.notes ?? null, channel: visit.channel,
      ...(visit.patientTimezone ? { patientTimezone: visit.patientTimezone } : {}), ...(visit.language ? { language: visit.language } : {}),
    },
  });
  const place = await takePlace(tx, appointment.id, visit.visitType, visit.branchId, visit.start);
  await note(tx, appointment.id, as === 'hold' ? 'held' : 'booked', by, { resourceIds: place.resourceIds, status: fhirStatus(appointment.status) });
  if (as === 'hold') await emit('com.medlab.appointment.held', { ...facts(appointment), holdExpiresAt: appointment.holdExpiresAt!.toISOString() });
  else await emit('com.medlab.appointment.booked', { ...facts(appointment), resourceIds: place.resourceIds, ...(appointment.holdExpiresAt ? { holdExpiresAt: appointment.holdExpiresAt.toISOString() } : {}) });
  return { appointment, place };
}

/** A hold becomes a booking. A hold past its time whose resources the cron has not yet freed is still the patient's. */
export async function confirmHold(tx: Tx, emit: Emit, held: Appointment, visitType: VisitTypeRules, resourceIds: string[], by: string, now = new Date()): Promise<Appointment> {
  if (held.status !== 'proposed') throw conflict(held.status === 'cancelled' ? 'the hold has lapsed; hold a time again' : `a ${fhirStatus(held.status)} appointment is not a hold to confirm`, 'appointmentId');
  const state = bookedState(visitType, now);
  assertMove(held.status, state.status);
  const booked = await tx.appointment.update({ where: { id: held.id }, data: state });
  await note(tx, held.id, 'booked', by, { status: fhirStatus(booked.status) });
  await emit('com.medlab.appointment.booked', { ...facts(booked), resourceIds, ...(booked.holdExpiresAt ? { holdExpiresAt: booked.holdExpiresAt.toISOString() } : {}) });
  return booked;
}

/**
 * The visit at another time or as another visit type, atomically: its holdings are released and the new
 * ones taken in this transaction, so when the new time is refused nothing changed. The visit does not block
 * its own new time (it may overlap the old one).
 */
export async function moveVisit(tx: Tx, emit: Emit, visit: Appointment, to: { start: Date; visitType: VisitTypeRules; notes?: string }, change: 'rescheduled' | 'modified', by: string): Promise<{ appointment: Appointment; place: Candidate }> {
  if (!MOVABLE.includes(visit.status)) throw conflict(`a ${fhirStatus(visit.status)} appointment cannot be moved`, 'appointmentId');
  await releaseResources(tx, visit.id);
  const place = await takePlace(tx, visit.id, to.visitType, visit.branchId, to.start, visit.id);
  const moved = await tx.appointment.update({
    where: { id: visit.id },
    data: {
      startsAt: to.start, endsAt: new Date(place.end), visitTypeId: to.visitType.id, ...(to.notes !== undefined ? { notes: to.notes } : {}),
      // A moved visit is reminded afresh for its new time.
      ...(to.start.getTime() !== visit.startsAt.getTime() ? { reminded24hAt: null, reminded2hAt: null } : {}),
    },
  });
  await note(tx, visit.id, change, by, { from: visit.startsAt.toISOString(), to: to.start.toISOString(), visitTypeId: to.visitType.id, resourceIds: place.resourceIds });
  await emit('com.medlab.appointment.changed', { ...facts(moved), change, previousStart: visit.startsAt.toISOString(), resourceIds: place.resourceIds });
  return { appointment: moved, place };
}

export type CancelReason = 'patient' | 'provider' | 'clinic' | 'hold-expired' | 'payment-expired';

/** The visit cancelled with its coded reason; its resources are free again for its time. */
export async function cancelVisit(tx: Tx, emit: Emit, visit: Appointment, reason: CancelReason, cancelledBy: 'patient' | 'staff' | 'service' | 'cron', by: string, noteText?: string, now = new Date()): Promise<Appointment> {
  if (!MOVABLE.includes(visit.status)) throw conflict(`a ${fhirStatus(visit.status)} appointment cannot be cancelled`, 'appointmentId');
  assertMove(visit.status, 'cancelled');
  await releaseResources(tx, visit.id, now);
  const cancelled = await tx.appointment.update({ where: { id: visit.id }, data: { status: 'cancelled', cancelReason: reason, cancelNote: noteText ?? null, holdExpiresAt: null } });
  await note(tx, visit.id, 'cancelled', by, { reason });
  await emit('com.medlab.appointment.cancelled', { ...facts(cancelled), reason, cancelledBy, sameDay: sameDay(visit, now) });
  return cancelled;
}

/** A staff-recorded status move (arrived, checked-in, fulfilled, noshow, entered-in-error). */
export async function moveStatus(tx: Tx, emit: Emit, visit: Appointment, to: Appointment['status'], by: string, now = new Date()): Promise<Appointment> {
  assertMove(visit.status, to, 'status');
  // A visit that did not happen (noshow, entered-in-error) frees what it still holds.
  if (to === 'noshow' || to === 'entered_in_error') await releaseResources(tx, visit.id, now);
  const moved = await tx.appointment.update({ where: { id: visit.id }, data: { status: to } });
  await note(tx, visit.id, 'status', by, { from: fhirStatus(visit.status), to: fhirStatus(to) });
  await emit('com.medlab.appointment.status-changed', { ...facts(moved), previousStatus: fhirStatus(visit.status) });
  return moved;
}
