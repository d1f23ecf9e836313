// Lab results for tests: an ORU^R01 as the LIS writes it (HL7 v2.5.1: MSH, PID, then per report an ORC, OBR
// and its OBX), and the patient-booking rows results are matched by (a patient with a tier, catalogue tests,
// an accession's order). Used by the results consumers' tests and the end-to-end tests.
import { randomUUID } from 'node:crypto';
import { Hl7Message } from '@medplum/core';
import { db } from '../../functions/shared/db';
import { placeBooking } from './package-bookings';
import { resultReports } from '../../functions/patient-booking/oru';
import type { ResultReceived } from '../../functions/patient-booking/results';

export interface OruObservation {
  /** OBX-3: the LIS's code; with loinc, coded LN as the alternate identifier. */
  code: string;
  loinc?: string;
  display?: string;
  /** OBX-2 (NM by default). */
  type?: string;
  /** OBX-5 as written ('5.4', '<^0.1', 'Negative'). */
  value: string;
  unit?: string;
  /** OBX-7 ('3.5-5.0', '<5.0'). */
  range?: string;
  /** OBX-8 abnormal flags (repeated with ~). */
  flags?: string[];
  /** OBX-11 (F by default). */
  status?: string;
  /** OBX-14. */
  time?: string;
}

export interface OruReport {
  accession: string;
  /** OBR-2 / ORC-2 placer order number: our package booking id or appointment id. */
  placer?: string;
  /** OBR-4: the panel's LIS code; with loinc, coded LN as the alternate identifier. */
  code: string;
  loinc?: string;
  display?: string;
  /** OBR-25 (F by default). */
  status?: string;
  /** OBR-7 and OBR-22. */
  observedAt?: string;
  reportedAt?: string;
  /** TQ1-9 priority (S, A, R). */
  priority?: string;
  observations: OruObservation[];
}

export interface OruOptions {
  /** MSH-10 (a fresh uuid by default). */
  control?: string;
  /** MSH-7. */
  time?: string;
  sep?: string;
}

const coded = (code: string, display = '', loinc?: string) => (loinc ? `${code}^${display}^L^${loinc}^${display}^LN` : `${code}^${display}^L`);

/** OBX for one result (set id `seq`). */
export function obx(seq: number, o: OruObservation): string {
  const fields = [
    'OBX', String(seq), o.type ?? 'NM', coded(o.code, o.display, o.loinc), '', o.value, o.unit ? `${o.unit}^^UCUM` : '', o.range ?? '',
    (o.flags ?? []).join('~'), '', '', o.status ?? 'F', '', '', o.time ?? '',
  ];
  return fields.join('|').replace(/\|+$/, '');
}

/** ORC, OBR, TQ1 and OBX segments of one report. */
export function orderObservation(r: OruReport, index: number): string[] {
  const obr = ['OBR', String(index), r.placer ?? '', `${r.accession}^LIS`, coded(r.code, r.display, r.loinc), '', '', r.observedAt ?? '20261208081500+0700'];
  while (obr.length < 22) obr.push('');
  obr.push(r.reportedAt ?? '20261208100000+0700', '', '', r.status ?? 'F');
  return [
    `ORC|RE|${r.placer ?? ''}|${r.accession}^LIS||CM`,
    obr.join('|'),
    ...(r.priority ? [`TQ1|1||||||||${r.priority}`] : []),
    ...r.observations.map((o, i) => obx(i + 1, o)),
  ];
}

/** An ORU^R01 for one patient (PID-3) and its reports, as the LIS sends it on lis-results. */
export function oru(patientId: string, reports: OruReport[], { control = randomUUID(), time = '20261208100500+0700', sep = '\r' }: OruOptions = {}): string {
  return [
    `MSH|^~\\&|LIS|MEDLAB-HCM|PORTAL|MEDLAB|${time}||ORU^R01^ORU_R01|${control}|P|2.5.1`,
    `PID|1||${patientId}^^^MEDLAB^PI||NGUYEN^AN||19800101|F`,
    'PV1|1|O',
    ...reports.flatMap((r, i) => orderObservation(r, i + 1)),
  ].join(sep);
}

/** A basic metabolic panel's potassium and glucose, normal: what most reports look like. */
export const chemistry = (accession: string, over: Partial<OruReport> = {}): OruReport => ({
  accession, code: 'CHEM7', loinc: '24323-8', display: 'Comprehensive metabolic panel',
  observations: [
    { code: 'K', loinc: '2823-3', display: 'Potassium', value: '4.2', unit: 'mmol/L', range: '3.5-5.0' },
    { code: 'GLU', loinc: '2345-7', display: 'Glucose', value: '5.4', unit: 'mmol/L', range: '3.9-6.1' },
  ],
  ...over,
});

/** An HIV antigen/antibody screen: a sensitive test (catalogue category hiv). */
export const hivScreen = (accession: string, over: Partial<OruReport> = {}): OruReport => ({
  accession, code: 'HIVAGAB', loinc: '56888-1', display: 'HIV 1+2 Ab + HIV1 p24 Ag',
  observations: [{ code: 'HIVAGAB', loinc: '56888-1', type: 'ST', value: 'Non-reactive' }],
  ...over,
});

/** The catalogue tests the helpers above name (units in UCUM, categories for the release policy). */
export async function seedResultCatalogue(): Promise<void> {
  await db().catalogueTest.createMany({
    data: [
      { code: 'CHEM7', version: 1n, loinc: '24323-8', name: 'Comprehensive metabolic panel', category: 'chemistry' },
      { code: 'K', version: 1n, loinc: '2823-3', name: 'Potassium', unit: 'mmol/L', referenceLow: 3.5, referenceHigh: 5.0, category: 'chemistry' },
      { code: 'GLU', version: 1n, loinc: '2345-7', name: 'Glucose', unit: 'mmol/L', referenceLow: 3.9, referenceHigh: 6.1, category: 'chemistry' },
      { code: 'HIVAGAB', version: 1n, loinc: '56888-1', name: 'HIV 1+2 Ab + HIV1 p24 Ag', category: 'hiv' },
    ],
    skipDuplicates: true,
  });
}

/** A patient as the CRM last said (tier routes their results). */
export async function seedPatient(patientId: string, tier: 'standard' | 'svip1' | 'svip2' = 'standard', over: { erasedAt?: Date } = {}) {
  return db().patient.create({ data: { patientId, tier, crmVersion: 1n, ...over } });
}

/** An accession already known to belong to the patient (as the appointment system or an earlier result told). */
export async function seedResultOrder(accession: string, patientId: string, over: { packageBookingId?: string; appointmentId?: string } = {}) {
  return db().resultOrder.create({ data: { accession, patientId, ...over } });
}

/** A package booking of the patient, checked in (its id is the placer order number the clinic sends the LIS). */
export const seedPackageBooking = (patientId: string) => placeBooking({ patientId, status: 'checked_in' });

/** A clinical visit of the patient (its appointment id is the placer order number). */
export async function seedVisit(patientId: string) {
  return db().visit.create({
    data: { appointmentId: randomUUID(), patientId, branchId: 'hcm-d1', visitTypeId: 'gp-consult', startsAt: new Date(), status: 'fulfilled', paymentStatus: 'paid', changedAt: new Date() },
  });
}

/** A record the LIS put on lis-results, as the KafkaSource delivers it: a dev.knative.kafka.event whose data is the HL7 text. */
export async function deliverHl7(url: string, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0', 'ce-id': `partition:0/offset:${randomUUID()}`, 'ce-type': 'dev.knative.kafka.event',
      'ce-source': '/apis/v1/namespaces/patient-portal/kafkasources/lis-results-consumer-source#lis-results', 'content-type': 'text/plain',
    },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, body: parsed };
}

/** The lane event the lis-results consumer makes of a report (parsed from its ORU^R01), for a lane consumer's tests. */
export function laneEvent(patientId: string, report: OruReport, { tier = 'standard' as ResultReceived['tier'], controlId = randomUUID() as string, receivedAt = new Date() } = {}): ResultReceived {
  const [r] = resultReports(Hl7Message.parse(oru(patientId, [report], { control: controlId })));
  return {
    patientId, accession: r.accession, tier, ...(r.orderNumber ? { orderNumber: r.orderNumber } : {}),
    message: { sender: 'LIS|MEDLAB-HCM', controlId, index: 1 }, report: r.report, receivedAt: receivedAt.toISOString(),
  };
}
