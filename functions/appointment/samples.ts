// What a visit's samples do to it: the LIS orders linked to a visit by accession number, each sample's
// status as the LIS reports it (on the order, the timeline and appointment-events), the visit arrived when
// its sample is taken and fulfilled when every order is completed, and a rejected sample answered with the
// first time a new one can be collected. Ids, codes and times only: never a test name, result or reason text.
import { tableOf, type Tx } from '../shared/db';
import type { Appointment, LabOrder, SampleStatus as DbSampleStatus } from '../shared/generated/prisma/client';
import { notFound } from '../shared/domain-errors';
import { assertMove, calendars, facts, lockAppointment, note } from './appointments';
import { findSlots, type Requirement } from './schedule';
import { advance, type SampleReport, type SampleStatus } from './lis';
import { system, type AppointmentEmit } from './system';

const labOrderTable = tableOf(system, 'lab_order');

/** How far ahead a new collection is looked for after a rejection. */
export const RECOLLECTION_DAYS = 14;

export const fhirSample = (s: DbSampleStatus) => s.replace(/_/g, '-') as SampleStatus;
const dbSample = (s: SampleStatus) => s.replace(/-/g, '_') as DbSampleStatus;

export function labOrderView(order: LabOrder) {
  return {
    accession: order.accession, appointmentId: order.appointmentId, sampleStatus: fhirSample(order.sampleStatus),
    ...(order.orderStatus ? { orderStatus: order.orderStatus } : {}),
    ...(order.rejectReason ? { rejectReason: order.rejectReason } : {}),
    ...(order.statusAt ? { statusAt: order.statusAt.toISOString() } : {}),
  };
}

/**
 * Links an accession to a visit, once: 'created' the first time, 'same' when it is already linked to this
 * visit, or the visit it is linked to instead. Concurrent links of one accession: the first insert wins.
 */
export async function linkLabOrder(tx: Tx, appointmentId: string, accession: string, by: string): Promise<{ outcome: 'created' | 'same' | 'other'; order: LabOrder }> {
  const { count } = await tx.labOrder.createMany({ data: [{ accession, appointmentId }], skipDuplicates: true });
  const order = await tx.labOrder.findUniqueOrThrow({ where: { accession } });
  if (count === 1) await note(tx, appointmentId, 'lab-order-linked', by, { accession });
  return { outcome: count === 1 ? 'created' : order.appointmentId === appointmentId ? 'same' : 'other', order };
}

/**
 * The lab order a report is about, locked with its visit (visit first, then order: two reports on one visit
 * queue rather than deadlock). An accession not yet known is linked when ORC-2 names an appointment of ours;
 * otherwise nothing can place it, a refusal naming the field the accession came from.
 */
async function orderFor(tx: Tx, report: SampleReport): Promise<{ appointment: Appointment; order: LabOrder }> {
  let known = await tx.labOrder.findUnique({ where: { accession: report.accession } });
  if (!known && report.placerOrder && (await tx.appointment.count({ where: { id: report.placerOrder } }))) {
    known = (await linkLabOrder(tx, report.placerOrder, report.accession, 'lis')).order;
  }
  if (!known) {
    throw notFound(report.accessionField, `accession ${report.accession} is not linked to a visit: link it (POST /api/appointments/lab-orders) or send the appointment id in ORC-2`);
  }
  const appointment = (await lockAppointment(tx, known.appointmentId))!;
  await tx.$executeRaw`SELECT 1 FROM ${labOrderTable} WHERE accession = ${report.accession} FOR UPDATE`;
  return { appointment, order: await tx.labOrder.findUniqueOrThrow({ where: { accession: report.accession } }) };
}

/** The visit moved to another status, on its timeline and appointment-events. */
async function move(tx: Tx, emit: AppointmentEmit, appointment: Appointment, to: Appointment['status'], accession: string): Promise<Appointment> {
  assertMove(appointment.status, to);
  const moved = await tx.appointment.update({ where: { id: appointment.id }, data: { status: to } });
  await note(tx, appointment.id, 'status-changed', 'lis', { from: appointment.status, to, accession });
  await emit('com.medlab.appointment.status-changed', { ...facts(moved), previousStatus: facts(appointment).status });
  return moved;
}

/**
 * The first time within the next RECOLLECTION_DAYS a visit of the same type can take place at the same
 * branch (one free resource for each thing it needs), or null.
 */
export async function recollectionStart(tx: Tx, appointment: Appointment, now = new Date()): Promise<Date | null> {
  const visitType = await tx.visitType.findUnique({ where: { id: appointment.visitTypeId } });
  if (!visitType?.active) return null;
  const needs = visitType.requirements as unknown as Requirement[];
  const to = new Date(now.getTime() + RECOLLECTION_DAYS * 24 * 3600_000);
  const resources = await calendars(tx, appointment.branchId, needs, now, to);
  const [first] = findSlots({ requirements: needs, resources, durationMinutes: visitType.durationMinutes, from: now.getTime(), to: to.getTime(), limit: 1 });
  return first ? new Date(first.start) : null;
}

export interface SampleOutcome {
  accession: string;
  appointmentId: string;
  sampleStatus: SampleStatus;
  /** moved: the status changed; missing: the LIS cannot find the container; unchanged: nothing to do (stale or same). */
  outcome: 'moved' | 'missing' | 'unchanged';
  appointmentStatus: string;
}

/** One report of the LIS applied to its visit. */
export async function applySampleReport(tx: Tx, emit: AppointmentEmit, report: SampleReport): Promise<SampleOutcome> {
  const { appointment, order } = await orderFor(tx, report);
  const current = { sampleStatus: fhirSample(order.sampleStatus), statusAt: order.statusAt };
  const answer = (outcome: SampleOutcome['outcome'], sampleStatus: SampleStatus, visit: Appointment): SampleOutcome =>
    ({ accession: order.accession, appointmentId: visit.id, sampleStatus, outcome, appointmentStatus: facts(visit).status });

  if (report.missing) {
    await note(tx, appointment.id, 'sample-missing', 'lis', { accession: order.accession, containerStatus: report.containerStatus }, report.at);
    return answer('missing', current.sampleStatus, appointment);
  }
  const next = advance(current, report);
  const newer = !order.statusAt || report.at >= order.statusAt;
  const orderStatus = report.orderStatus && newer ? report.orderStatus : order.orderStatus;
  if (!next) {
    if (orderStatus !== order.orderStatus) await tx.labOrder.update({ where: { accession: order.accession }, data: { orderStatus, statusAt: report.at } });
    return answer('unchanged', current.sampleStatus, appointment);
  }

  const rejectReason = next === 'rejected' ? report.rejectReason ?? null : order.rejectReason;
  const statusAt = newer ? report.at : order.statusAt;
  await tx.labOrder.update({ where: { accession: order.accession }, data: { sampleStatus: dbSample(next), orderStatus, rejectReason, statusAt } });
  await note(tx, appointment.id, `sample-${next}`, 'lis', {
    accession: order.accession,
    ...(orderStatus ? { orderStatus } : {}),
    ...(report.containerStatus ? { containerStatus: report.containerStatus } : {}),
    ...(next === 'rejected' && rejectReason ? { rejectReason } : {}),
  }, report.at);

  const recollection = next === 'rejected' ? await recollectionStart(tx, appointment) : undefined;
  await emit('com.medlab.appointment.sample-status-changed', {
    ...facts(appointment), accession: order.accession, sampleStatus: next,
    ...(orderStatus ? { orderStatus } : {}),
    ...(next === 'rejected' ? { recollectionStart: recollection ? recollection.toISOString() : null, ...(rejectReason ? { rejectReason } : {}) } : {}),
  });
  if (next === 'rejected') {
    // The patient hears that a new sample is needed and where to book it; not why, nor for which test.
    await emit('com.medlab.notification.requested', {
      requestId: `sample-rejected:${order.accession}:${report.at.toISOString()}`,
      template: 'sample-rejected',
      recipient: { kind: 'patient', patientId: appointment.patientId },
      category: 'appointment',
      critical: false,
      variables: {
        appointmentId: appointment.id,
        ...(recollection ? { recollectionStart: recollection.toISOString() } : {}),
        rebookPath: `/appointments/${appointment.id}/reschedule`,
      },
    });
    return answer('moved', next, appointment);
  }

  // A sample taken means the patient came; every order completed means the visit is done.
  let visit = appointment;
  if (visit.status === 'booked') visit = await move(tx, emit, visit, 'arrived', order.accession);
  if (next === 'completed' && (visit.status === 'arrived' || visit.status === 'checked_in')) {
    const open = await tx.labOrder.count({ where: { appointmentId: visit.id, sampleStatus: { not: 'completed' } } });
    if (open === 0) visit = await move(tx, emit, visit, 'fulfilled', order.accession);
  }
  return answer('moved', next, visit);
}
