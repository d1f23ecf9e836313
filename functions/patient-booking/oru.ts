// What an HL7 v2.5.1 ORU^R01 from the LIS says: one report per ORDER_OBSERVATION group (an ORC and OBR with
// the OBX results that follow), shaped as the lane event's `report`. Pure functions, no database. Statuses
// follow the HL7 v2-to-FHIR ConceptMaps: OBR-25 (table 0123) → DiagnosticReport.status, OBX-11 (table 0085)
// → Observation.status; a code those maps leave unmapped is refused rather than guessed. A field that cannot
// be read is a malformed message naming it (hl7/OBX-5): never retried, dead-lettered with the reason.
import type { Hl7Message, Hl7Segment } from '@medplum/core';
import type { EventData } from '../shared/system';
import { hl7Time, malformed, value } from '../shared/hl7';
import type { events } from './events';

type ReceivedEvent = EventData<typeof events, 'com.medlab.result.received'>;
export type LaneReport = ReceivedEvent['report'];
export type LaneObservation = LaneReport['observations'][number];
export type ReportStatus = LaneReport['status'];

export interface ResultReport {
  /** PID-3 (first identifier): the CRM's patient id. */
  patientId: string;
  /** OBR-3 filler order number (else ORC-3): the LIS accession. */
  accession: string;
  /** OBR-2 placer order number (else ORC-2): our package booking or appointment id, as the clinic entered it. */
  orderNumber?: string;
  /** The OBR's place in the message, from 1. */
  index: number;
  report: LaneReport;
}

/** HL7 table 0123 (OBR-25) → DiagnosticReport.status (v2-to-FHIR ConceptMap; A → partial as its 2020 ballot). */
export const REPORT_STATUS: Record<string, ReportStatus> = {
  O: 'registered', I: 'registered', S: 'registered', A: 'partial', R: 'partial', P: 'preliminary', F: 'final', C: 'corrected', X: 'cancelled',
};

/**
 * HL7 table 0085 (OBX-11) → Observation.status (v2-to-FHIR ConceptMap). I (specimen in lab) → registered, R
 * (entered, not verified) and S (partial) → preliminary as the ConceptMap's earlier ballot had them; B, N, O,
 * U, V stay unmapped there and are refused.
 */
export const OBSERVATION_STATUS: Record<string, ReportStatus> = {
  F: 'final', P: 'preliminary', R: 'preliminary', S: 'preliminary', I: 'registered', A: 'amended', C: 'corrected', D: 'entered-in-error', W: 'entered-in-error', X: 'cancelled',
};

/** TQ1-9 / OBR-27.6 priority (HL7 table 0485) → FHIR request priority; others say nothing here. */
const PRIORITY: Record<string, LaneReport['priority']> = { S: 'stat', A: 'asap', R: 'routine', T: 'urgent' };

/** Value types (OBX-2, HL7 table 0125) read here. */
const VALUE_TYPES = new Set(['NM', 'SN', 'ST', 'TX', 'FT', 'CWE', 'CE', 'CNE']);

const ACCESSION = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const FLAG = /^[A-Za-z<>_]{1,5}$/;
const COMPARATORS = new Set(['', '=', '<', '>', '<=', '>=', '<>']);
const SN_SEPARATORS = new Set(['', '-', '+', '/', '.', ':']);
const MAX_OBSERVATIONS = 200;

/** HL7 escape sequences in text (\F\ \S\ \T\ \R\ \E\ and \.br\ line breaks) as the characters they stand for. */
export function unescape(text: string): string {
  return text.replace(/\\(F|S|T|R|E|\.br)\\/g, (_, code: string) => ({ F: '|', S: '^', T: '&', R: '~', E: '\\', '.br': '\n' })[code] ?? '');
}

const short = (text: string) => text.slice(0, 40);
const display = (text: string) => (text ? { display: unescape(text).slice(0, 200) } : {});

/** A coded element (CWE/CE): the sender's code, its text, and LOINC when either coding is from system LN. */
function coded(segment: Hl7Segment, field: number, name: string, max: number): { code: string; loinc?: string; display?: string } {
  const code = value(segment, field, 1);
  if (!code) throw malformed(name, 'is required (the code)');
  if (code.length > max) throw malformed(name, `"${short(code)}" is longer than ${max} characters`);
  const loinc = value(segment, field, 3) === 'LN' ? code : value(segment, field, 6) === 'LN' ? value(segment, field, 4) : '';
  if (loinc && !/^[0-9]{1,7}-[0-9]$/.test(loinc)) throw malformed(name, `"${short(loinc)}" is not a LOINC code`);
  return { code, ...(loinc ? { loinc } : {}), ...display(value(segment, field, 2)) };
}

function number(text: string, field: string): number {
  if (!NUMBER.test(text)) throw malformed(field, `"${short(text)}" is not a number`);
  return Number(text);
}

/** OBX-5 by OBX-2: NM a number; SN a number, or text for a comparator, ratio or range ('<0.1', '1:128'); text; coded. */
function observedValue(obx: Hl7Segment, valueType: string): Pick<LaneObservation, 'value' | 'valueText'> {
  const field = obx.getField(5);
  const raw = field?.toString().trim() ?? '';
  if (!raw) return { value: null };
  if (!valueType) throw malformed('OBX-2', 'is required when OBX-5 has a value');
  if ((field?.components.length ?? 0) > 1 && valueType !== 'TX' && valueType !== 'FT') throw malformed('OBX-5', `repeats, which a ${valueType} value may not`);
  switch (valueType) {
    case 'NM':
      return { value: number(raw, 'OBX-5') };
    case 'SN': {
      const [comparator = '', first = '', separator = '', second = ''] = field!.components[0].map((c) => c.trim());
      if (!COMPARATORS.has(comparator)) throw malformed('OBX-5', `"${short(comparator)}" is not an SN comparator (=, <, >, <=, >=, <>)`);
      if (!SN_SEPARATORS.has(separator)) throw malformed('OBX-5', `"${short(separator)}" is not an SN separator (-, +, /, ., :)`);
      const n = number(first, 'OBX-5');
      if (separator) number(second, 'OBX-5');
      if (!separator && (comparator === '' || comparator === '=')) return { value: n };
      return { value: null, valueText: `${comparator === '=' ? '' : comparator}${first}${separator}${second}` };
    }
    case 'ST': case 'TX': case 'FT': {
      const text = unescape(field!.components.map((rep) => rep.join('^')).join('\n'));
      if (text.length > 2000) throw malformed('OBX-5', 'is longer than 2000 characters');
      return { value: text };
    }
    default: {
      const { code, display: text } = coded(obx, 5, 'OBX-5', 200);
      return { value: text ?? code, valueText: code };
    }
  }
}

/** OBX-7: '3.5-5.0' (low and high), '<5.0' or '<=5.0' (high), '>40' or '>=40' (low); anything else is text. */
export function referenceRange(text: string): LaneObservation['referenceRange'] | undefined {
  const range = unescape(text).trim();
  if (!range) return undefined;
  if (range.length > 200) throw malformed('OBX-7', 'is longer than 200 characters');
  const n = '([+-]?\\d+(?:\\.\\d+)?)';
  const between = new RegExp(`^${n}\\s*-\\s*${n}$`).exec(range);
  if (between) return { low: Number(between[1]), high: Number(between[2]), text: range };
  const bound = new RegExp(`^(<=?|>=?)\\s*${n}$`).exec(range);
  if (bound) return bound[1].startsWith('<') ? { high: Number(bound[2]), text: range } : { low: Number(bound[2]), text: range };
  return { text: range };
}

function observation(obx: Hl7Segment, position: number, fallbackTime: Date | undefined): LaneObservation {
  const setId = value(obx, 1);
  const seq = setId ? number(setId, 'OBX-1') : position;
  if (!Number.isInteger(seq) || seq < 1) throw malformed('OBX-1', `"${short(setId)}" is not a set id (1, 2, 3 …)`);
  const valueType = value(obx, 2).toUpperCase();
  if (valueType && !VALUE_TYPES.has(valueType)) throw malformed('OBX-2', `${short(valueType)} is not a value type read here (${[...VALUE_TYPES].join(', ')})`);
  const statusCode = value(obx, 11);
  if (!statusCode) throw malformed('OBX-11', 'is required (observation result status)');
  const status = OBSERVATION_STATUS[statusCode];
  if (!status) throw malformed('OBX-11', `${short(statusCode)} is not mapped to an Observation.status (HL7 table 0085: F, P, C, A, D, W, X, I, R, S)`);
  const unit = unescape(value(obx, 6, 1) || value(obx, 6, 2));
  if (unit.length > 40) throw malformed('OBX-6', 'is longer than 40 characters');
  const flags = (obx.getField(8)?.components ?? []).map((rep) => (rep[0] ?? '').trim()).filter(Boolean);
  if (flags.length > 5) throw malformed('OBX-8', 'repeats more than 5 times');
  for (const flag of flags) if (!FLAG.test(flag)) throw malformed('OBX-8', `"${short(flag)}" is not an abnormal flag (HL7 table 0078: L, H, LL, HH, A, AA, N …)`);
  const range = referenceRange(value(obx, 7));
  const effectiveAt = hl7Time(value(obx, 14), 'OBX-14') ?? fallbackTime;
  return {
    seq, ...coded(obx, 3, 'OBX-3', 60), valueType, ...observedValue(obx, valueType),
    ...(unit ? { unit } : {}),
    ...(range ? { referenceRange: range } : {}),
    ...(flags.length ? { interpretation: flags } : {}),
    status,
    ...(effectiveAt ? { effectiveAt: effectiveAt.toISOString() } : {}),
  };
}

/**
 * OBR-25 as DiagnosticReport.status, refined by its results: a final report with an amended result is amended
 * (table 0123 has no "amended"), and a final or corrected report whose every result was deleted (OBX-11 D or
 * W) was entered in error.
 */
function reportStatus(obr: Hl7Segment, observations: LaneObservation[]): ReportStatus {
  const code = value(obr, 25);
  if (!code) throw malformed('OBR-25', 'is required (result status)');
  const status = REPORT_STATUS[code];
  if (!status) throw malformed('OBR-25', `${short(code)} is not mapped to a DiagnosticReport.status (HL7 table 0123: O, I, S, A, R, P, F, C, X)`);
  if (status === 'final' && observations.some((o) => o.status === 'amended')) return 'amended';
  if ((status === 'final' || status === 'corrected') && observations.length && observations.every((o) => o.status === 'entered-in-error')) return 'entered-in-error';
  return status;
}

function identifier(segment: Hl7Segment | undefined, field: number): string {
  return value(segment, field, 1);
}

interface Group { pid?: Hl7Segment; orc?: Hl7Segment; obr: Hl7Segment; tq1?: Hl7Segment; obx: Hl7Segment[]; index: number }

/** The ORDER_OBSERVATION groups: each OBR with the ORC before it, its TQ1 and the OBX that follow; PID applies to the groups after it. */
function groups(message: Hl7Message): Group[] {
  const out: Group[] = [];
  let pid: Hl7Segment | undefined;
  let orc: Hl7Segment | undefined;
  for (const segment of message.segments) {
    switch (segment.name) {
      case 'PID': pid = segment; orc = undefined; break;
      case 'ORC': orc = segment; break;
      case 'OBR': out.push({ pid, orc, obr: segment, obx: [], index: out.length + 1 }); orc = undefined; break;
      case 'TQ1': if (out.length && !out[out.length - 1].tq1) out[out.length - 1].tq1 = segment; break;
      case 'OBX':
        if (!out.length) throw malformed('OBX', 'comes before any OBR: a result must follow the order it belongs to');
        out[out.length - 1].obx.push(segment);
        break;
      default: break; // NTE (comments, which may name the patient), SPM, PV1 …: not part of the report kept here
    }
  }
  if (!out.length) throw malformed('OBR', 'is missing: the message reports no order');
  return out;
}

/** One report per OBR of an ORU^R01, in message order. */
export function resultReports(message: Hl7Message): ResultReport[] {
  return groups(message).map(({ pid, orc, obr, tq1, obx, index }) => {
    if (!pid) throw malformed('PID', 'is missing: the results name no patient');
    const patientId = identifier(pid, 3);
    if (!patientId) throw malformed('PID-3', 'is required (the patient id)');
    if (patientId.length > 100) throw malformed('PID-3', 'is longer than 100 characters');
    const accession = identifier(obr, 3) || identifier(orc, 3);
    if (!accession) throw malformed('OBR-3', 'is required (filler order number: the accession; ORC-3 is empty too)');
    if (!ACCESSION.test(accession)) throw malformed('OBR-3', `"${short(accession)}" is not an accession number (letters, digits and . _ : @ / -, at most 100)`);
    const orderNumber = identifier(obr, 2) || identifier(orc, 2);
    if (orderNumber.length > 100) throw malformed('OBR-2', 'is longer than 100 characters');
    if (obx.length > MAX_OBSERVATIONS) throw malformed('OBX', `more than ${MAX_OBSERVATIONS} results under one OBR`);
    const effectiveAt = hl7Time(value(obr, 7), 'OBR-7');
    const issuedAt = hl7Time(value(obr, 22), 'OBR-22');
    const observations = obx.map((segment, i) => observation(segment, i + 1, effectiveAt));
    const seqs = new Set(observations.map((o) => o.seq));
    if (seqs.size !== observations.length) throw malformed('OBX-1', 'repeats a set id under one OBR');
    const priority = PRIORITY[value(tq1, 9) || value(obr, 27, 6)];
    return {
      patientId, accession, index,
      ...(orderNumber ? { orderNumber } : {}),
      report: {
        ...coded(obr, 4, 'OBR-4', 60),
        status: reportStatus(obr, observations),
        ...(effectiveAt ? { effectiveAt: effectiveAt.toISOString() } : {}),
        ...(issuedAt ? { issuedAt: issuedAt.toISOString() } : {}),
        ...(priority ? { priority } : {}),
        observations,
      },
    };
  });
}
