// Whose a report from the LIS is: its accession's order (ResultOrder), or the first result of an accession
// naming our package booking or visit in its placer order number (then the accession is remembered, so later
// versions of its reports find it). The patient in the message must be the order's, known here and not
// erased; the results must be in the catalogue's units. A refusal names the HL7 field at fault (422,
// dead-lettered with the reason): nothing is routed that could reach the wrong patient or be misread.
import type { Tx } from '../shared/db';
import { conflict, invalid, notFound } from '../shared/domain-errors';
import type { Patient, ResultOrder } from '../shared/generated/prisma/client';
import type { LaneObservation, ResultReport } from './oru';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The package booking or visit the placer order number names, and whose it is. */
async function placedBy(tx: Tx, orderNumber: string | undefined): Promise<{ patientId: string; packageBookingId?: string; appointmentId?: string } | undefined> {
  if (!orderNumber || !UUID.test(orderNumber)) return undefined;
  const id = orderNumber.toLowerCase();
  const booking = await tx.packageBooking.findUnique({ where: { id }, select: { patientId: true } });
  if (booking) return { patientId: booking.patientId, packageBookingId: id };
  const visit = await tx.visit.findUnique({ where: { appointmentId: id }, select: { patientId: true } });
  return visit ? { patientId: visit.patientId, appointmentId: id } : undefined;
}

/** The report's order and patient, or a refusal naming OBR-3 (no order), PID-3 (not this patient, unknown or erased). */
export async function matchReport(tx: Tx, r: ResultReport): Promise<{ order: ResultOrder; patient: Patient }> {
  let order = await tx.resultOrder.findUnique({ where: { accession: r.accession } });
  if (!order) {
    const placed = await placedBy(tx, r.orderNumber);
    if (!placed) {
      throw notFound('OBR-3', `accession ${r.accession} is not known here, and OBR-2 ${r.orderNumber ? `(${r.orderNumber.slice(0, 40)}) names no package booking or visit` : 'is empty'}`);
    }
    if (placed.patientId !== r.patientId) throw conflict(`the order in OBR-2 is not PID-3's (${r.patientId.slice(0, 40)}): results are never routed to another patient`, 'PID-3');
    // Two messages of a new accession at once: the first insert wins, and both read it.
    await tx.resultOrder.createMany({ data: [{ accession: r.accession, ...placed }], skipDuplicates: true });
    order = await tx.resultOrder.findUniqueOrThrow({ where: { accession: r.accession } });
  }
  if (order.patientId !== r.patientId) throw conflict(`accession ${r.accession} is not PID-3's (${r.patientId.slice(0, 40)}): results are never routed to another patient`, 'PID-3');
  const patient = await tx.patient.findUnique({ where: { patientId: r.patientId } });
  if (!patient) throw notFound('PID-3', `patient ${r.patientId.slice(0, 40)} is not known here yet (the CRM has not sent them)`);
  if (patient.erasedAt) throw conflict(`patient ${r.patientId.slice(0, 40)} was erased: their results are not kept here`, 'PID-3');
  return { order, patient };
}

const NUMERIC = new Set(['NM', 'SN']);

/**
 * The report's observations checked against the catalogue: a result in another unit than its test's (a
 * number with none, where the catalogue has one) is refused naming OBX-6; LOINC is filled in from the
 * catalogue where the LIS sent none.
 */
export async function checkAgainstCatalogue(tx: Tx, observations: LaneObservation[]): Promise<LaneObservation[]> {
  const tests = new Map((await tx.catalogueTest.findMany({ where: { code: { in: observations.map((o) => o.code) } } })).map((t) => [t.code, t]));
  return observations.map((o) => {
    const test = tests.get(o.code);
    if (!test) return o;
    if (test.unit && (o.unit || NUMERIC.has(o.valueType)) && o.unit !== test.unit) {
      throw invalid(`OBX ${o.seq} (${o.code}) is in "${o.unit ?? ''}", the catalogue's unit is "${test.unit}": a value is never shown in a unit it was not reported in`, 'OBX-6');
    }
    return !o.loinc && test.loinc ? { ...o, loinc: test.loinc } : o;
  });
}
