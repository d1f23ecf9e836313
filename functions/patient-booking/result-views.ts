// How a stored lab report reads in the results API: FHIR-shaped (a DiagnosticReport and its Observations),
// what changed between the version a patient saw and a newer one, and one LOINC code's points across
// visits. Pure functions of rows already read, so the rules are tested without a database.
import type { DiagnosticReport, Observation } from '../shared/generated/prisma/client';

/** HL7 table 0078 flags that say "outside the reference range" (N, and S/R/I of susceptibility, do not). */
const ABNORMAL = new Set(['L', 'LL', 'LU', 'H', 'HH', 'HU', 'A', 'AA', '<', '>']);
const LOINC = 'http://loinc.org';
const LIS = 'urn:medlab:lis-code';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export const isAbnormal = (flags: readonly string[]) => flags.some((f) => ABNORMAL.has(f));

/** FHIR writes entered-in-error; the database enum cannot hold a hyphen. */
export const fhirStatus = (status: string) => status.replace(/_/g, '-');

export type ObservationRow = Pick<Observation, 'seq' | 'code' | 'loinc' | 'display' | 'valueType' | 'valueNumber' | 'valueText' | 'unit' | 'referenceLow' | 'referenceHigh' | 'referenceText' | 'interpretation' | 'status' | 'effectiveAt'>;

export function codeOf(code: string, loinc: string | null, display: string | null) {
  return {
    coding: [...(loinc ? [{ system: LOINC, code: loinc }] : []), { system: LIS, code }],
    ...(display ? { text: display } : {}),
  };
}

/** '<0.1' as the LIS wrote it beside the number 0.1: FHIR's Quantity.comparator. */
const comparatorOf = (text: string | null) => /^\s*(<=|>=|<|>)/.exec(text ?? '')?.[1];

function valueOf(o: ObservationRow) {
  if (o.valueNumber !== null) {
    const comparator = comparatorOf(o.valueText);
    return { valueQuantity: { value: o.valueNumber, ...(o.unit ? { unit: o.unit } : {}), ...(comparator ? { comparator } : {}) } };
  }
  return o.valueText !== null ? { valueString: o.valueText } : {};
}

function rangeOf(o: ObservationRow) {
  if (o.referenceLow === null && o.referenceHigh === null && !o.referenceText) return [];
  const quantity = (value: number) => ({ value, ...(o.unit ? { unit: o.unit } : {}) });
  return [{
    ...(o.referenceLow !== null ? { low: quantity(o.referenceLow) } : {}),
    ...(o.referenceHigh !== null ? { high: quantity(o.referenceHigh) } : {}),
    ...(o.referenceText ? { text: o.referenceText } : {}),
  }];
}

export function observationView(o: ObservationRow) {
  return {
    resourceType: 'Observation' as const,
    sequence: o.seq,
    status: fhirStatus(o.status),
    code: codeOf(o.code, o.loinc, o.display),
    ...valueOf(o),
    referenceRange: rangeOf(o),
    interpretation: o.interpretation.map((code) => ({ coding: [{ system: INTERPRETATION, code }] })),
    abnormal: isAbnormal(o.interpretation),
    ...(o.effectiveAt ? { effectiveDateTime: o.effectiveAt.toISOString() } : {}),
  };
}

export type ReportRow = Pick<DiagnosticReport, 'id' | 'patientId' | 'accession' | 'code' | 'loinc' | 'display' | 'status' | 'version' | 'effectiveAt' | 'issuedAt'>;

/**
 * The status a version says. The report row holds the newest version's; an older version a patient still
 * reads (a newer one is held) was final when it was the first, corrected when its results say so, amended
 * otherwise.
 */
export function statusOf(report: Pick<DiagnosticReport, 'status' | 'version'>, version: number, observations: Pick<Observation, 'status'>[]): string {
  if (version === report.version) return fhirStatus(report.status);
  if (observations.some((o) => o.status === 'corrected')) return 'corrected';
  return version === 1 ? 'final' : 'amended';
}

export function reportView(report: ReportRow, version: number, status: string) {
  return {
    resourceType: 'DiagnosticReport' as const,
    id: report.id,
    meta: { versionId: String(version) },
    identifier: [{ system: 'urn:medlab:accession', value: report.accession }],
    status,
    code: codeOf(report.code, report.loinc, report.display),
    subject: { reference: `Patient/${report.patientId}` },
    ...(report.effectiveAt ? { effectiveDateTime: report.effectiveAt.toISOString() } : {}),
    // issued is the newest version's: an older version shown keeps its release time in release.releasedAt.
    ...(report.issuedAt && version === report.version ? { issued: report.issuedAt.toISOString() } : {}),
  };
}

// ---- what changed between two versions ----

type Side = { value: number | string | null; unit: string | null; interpretation: string[]; referenceRange: string | null };

const sideOf = (o: ObservationRow): Side => ({
  value: o.valueNumber ?? o.valueText,
  unit: o.unit,
  interpretation: [...o.interpretation],
  referenceRange: o.referenceLow === null && o.referenceHigh === null && !o.referenceText ? null : o.referenceText ?? `${o.referenceLow ?? ''}-${o.referenceHigh ?? ''}`,
});

const FIELDS = ['value', 'unit', 'interpretation', 'referenceRange'] as const;

/** Results are matched by their LIS code (and its n-th occurrence, should a panel repeat one), not by OBX-1. */
function keyed(rows: ObservationRow[]): Map<string, ObservationRow> {
  const seen = new Map<string, number>();
  const out = new Map<string, ObservationRow>();
  for (const o of [...rows].sort((a, b) => a.seq - b.seq)) {
    const n = (seen.get(o.code) ?? 0) + 1;
    seen.set(o.code, n);
    out.set(`${o.code}#${n}`, o);
  }
  return out;
}

/**
 * Per result, what differs from the earlier version: changed (the fields that did: value, unit, flags, range),
 * added or removed. Unchanged results are not listed.
 */
export function changesBetween(before: ObservationRow[], after: ObservationRow[]) {
  const was = keyed(before);
  const is = keyed(after);
  const out: Array<{ code: ReturnType<typeof codeOf>; change: 'changed' | 'added' | 'removed'; fields?: string[]; before?: Side; after?: Side }> = [];
  for (const [key, now] of is) {
    const then = was.get(key);
    if (!then) {
      out.push({ code: codeOf(now.code, now.loinc, now.display), change: 'added', after: sideOf(now) });
      continue;
    }
    const [a, b] = [sideOf(then), sideOf(now)];
    const fields = FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
    if (fields.length) out.push({ code: codeOf(now.code, now.loinc, now.display), change: 'changed', fields, before: a, after: b });
  }
  for (const [key, then] of was) if (!is.has(key)) out.push({ code: codeOf(then.code, then.loinc, then.display), change: 'removed', before: sideOf(then) });
  return out;
}

// ---- one LOINC code across visits ----

export interface TrendInput { reportId: string; accession: string; version: number; at: Date; observation: ObservationRow }

/**
 * Points oldest first. Values are shown in the unit the lab reported them in: a point whose unit differs from
 * the one before says so (unitChanged), and nothing is converted.
 */
export function trendOf(inputs: TrendInput[]) {
  const sorted = [...inputs].sort((a, b) => a.at.getTime() - b.at.getTime() || a.reportId.localeCompare(b.reportId) || a.observation.seq - b.observation.seq);
  let unit: string | null | undefined;
  const points = sorted.map((p, i) => {
    const o = p.observation;
    const changed = i > 0 && o.unit !== unit;
    unit = o.unit;
    return {
      at: p.at.toISOString(),
      value: o.valueNumber,
      ...(o.valueText !== null ? { valueText: o.valueText } : {}),
      unit: o.unit,
      interpretation: [...o.interpretation],
      abnormal: isAbnormal(o.interpretation),
      reportId: p.reportId,
      accession: p.accession,
      version: p.version,
      ...(changed ? { unitChanged: true } : {}),
    };
  });
  const units = [...new Set(points.map((p) => p.unit))];
  return { points, units, unitsDiffer: units.length > 1 };
}
