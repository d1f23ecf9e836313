// Releasing a report to its patient, and the audit trail every step of a report's life leaves. A release
// marks the report's current version released, audits who released it and why, and emits result.released
// (ids and codes only) in the same transaction: the notification system tells the patient. The lane
// consumers release at once by default; held reports are released by a clinician (the results API) or by
// the cron when their automatic release time comes.
import type { Tx } from '../shared/db';
import type { DiagnosticReport } from '../shared/generated/prisma/client';
import type { PatientBookingEmit } from './system';
import type { ReleasePolicy } from './release-policy';

/** Who acted: 'staff:<id>', 'patient:<id>', 'service:<id>', or 'system:<function>'. */
export type Actor = string;

export type AuditAction = 'received' | 'held' | 'released' | 'auto-released' | 'called' | 'withheld' | 'viewed' | 'amended' | 'detached' | 'refused';

export interface AuditEntry {
  reportId: string;
  patientId: string;
  action: AuditAction;
  actor: Actor;
  reason?: string;
  version?: number;
  at?: Date;
}

const auditRow = (entry: AuditEntry) => ({
  reportId: entry.reportId, patientId: entry.patientId, action: entry.action, actor: entry.actor, reason: entry.reason ?? null, version: entry.version ?? null, ...(entry.at ? { at: entry.at } : {}),
});

/** One line of a report's audit trail: who, when, what, why. Never the result itself. */
export async function audit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.resultAudit.create({ data: auditRow(entry) });
}

/** Several lines of the trail in one statement, in their order. */
export async function auditAll(tx: Tx, entries: AuditEntry[]): Promise<void> {
  await tx.resultAudit.createMany({ data: entries.map(auditRow) });
}

export interface Release {
  actor: Actor;
  /** Why: 'default' (released on arrival), 'reviewed', 'auto-release time', 'patient called' … */
  reason: string;
  at: Date;
  /** 'auto-released' when the cron released it unreviewed; 'released' otherwise. */
  action?: 'released' | 'auto-released';
}

/** The FHIR status a release says: a released report that changed again is an update (amended/corrected). */
const releasedStatus = (status: string) => (status === 'amended' || status === 'corrected' || status === 'final' ? status : 'final');

/**
 * Releases the report's current version, unless that version is already released (then nothing happens and
 * false is returned: a release is never told twice). Emits result.released.
 */
export async function releaseReport(tx: Tx, emit: PatientBookingEmit, reportId: string, release: Release): Promise<boolean> {
  const report = await tx.diagnosticReport.findUniqueOrThrow({ where: { id: reportId } });
  if (report.releaseState === 'released' && report.releasedVersion === report.version) return false;
  // Only the version read here is released: a newer version arriving meanwhile waits for its own decision.
  // And only if no one released it since the read: a racing release (the cron and a clinician, two lane
  // deliveries) waits on the row, finds it released, and tells no one again.
  const { count } = await tx.diagnosticReport.updateMany({
    where: { id: reportId, version: report.version, NOT: { releaseState: 'released', releasedVersion: report.version } },
    data: { releaseState: 'released', releasedAt: release.at, releasedVersion: report.version, holdReason: null, releaseDueAt: null },
  });
  if (count === 0) return false;
  await audit(tx, { reportId, patientId: report.patientId, action: release.action ?? 'released', actor: release.actor, reason: release.reason, version: report.version, at: release.at });
  await tellReleased(emit, report, release.at);
  return true;
}

/** result.released of a report's version just released (ids and codes only). */
export async function tellReleased(emit: PatientBookingEmit, report: Pick<DiagnosticReport, 'id' | 'patientId' | 'accession' | 'status' | 'critical'>, at: Date): Promise<void> {
  await emit('com.medlab.result.released', {
    reportId: report.id, patientId: report.patientId, accession: report.accession,
    status: releasedStatus(report.status) as 'final' | 'amended' | 'corrected',
    releasedAt: at.toISOString(),
    ...(report.critical ? { critical: true } : {}),
  });
}

// ---- the release rules: what a new version of a report does to what the patient sees ----

export type FhirStatus = 'registered' | 'partial' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error';

/** What the rules look at in a version: its status, codes, flags and numbers (never shown in a reason). */
export interface ReportFacts {
  status: FhirStatus;
  code: string;
  loinc?: string | null;
  observations: Array<{ code: string; loinc?: string | null; value?: number | string | null; unit?: string | null; interpretation?: readonly string[] }>;
  /** The catalogue categories of the report's test and its observations' tests (hiv, genetic …). */
  categories: readonly string[];
}

/** The report as stored before this version (none: the first version). */
export interface Prior {
  status: FhirStatus;
  releaseState: 'pending' | 'held' | 'released' | 'withheld';
  releasedVersion: number | null;
  releaseDueAt: Date | null;
  holdReason: string | null;
  critical: boolean;
}

export type Decision =
  | { action: 'release'; reason: string }
  | { action: 'hold'; reason: string; critical: boolean; releaseDueAt: Date | null }
  | { action: 'pending'; reason: string }
  | { action: 'withhold'; reason: string };

/** Ranks of a report's life: registered … preliminary < final < amended/corrected. Withdrawals have none. */
export const statusRank = (status: FhirStatus): number | null =>
  status === 'cancelled' || status === 'entered-in-error' ? null
    : status === 'final' ? 2 : status === 'amended' || status === 'corrected' ? 3 : 1;

/** The hold reason of a correction that arrived before any final version (never released automatically). */
export const CORRECTION_BEFORE_FINAL = 'a correction before the final: a clinician checks what it corrects';

/** The codes of the version's critical values: flagged critical (OBX-8) or outside the policy's limits. */
export function criticalCodes(policy: ReleasePolicy, facts: ReportFacts): string[] {
  const flags = new Set(policy.critical.flags);
  return facts.observations.filter((o) => {
    if (o.interpretation?.some((f) => flags.has(f))) return true;
    if (typeof o.value !== 'number') return false;
    const v = o.value;
    // A limit holds only for a value in its own unit: 92 mg/dL is not above a limit of 25 mmol/L.
    return policy.critical.limits.some((l) => (l.code === o.code || (!!l.loinc && l.loinc === o.loinc)) && l.unit === o.unit
      && ((l.low !== undefined && v < l.low) || (l.high !== undefined && v > l.high)));
  }).map((o) => o.code);
}

/** Whether the report is of a sensitive test: its category, code or LOINC (or any observation's) is in the policy. */
export function isSensitive(policy: ReleasePolicy, facts: ReportFacts): boolean {
  const { categories, codes, loinc } = policy.sensitive;
  const named = (code: string, l?: string | null) => codes.includes(code) || (!!l && loinc.includes(l));
  return facts.categories.some((c) => categories.includes(c)) || named(facts.code, facts.loinc) || facts.observations.some((o) => named(o.code, o.loinc));
}

/**
 * The release rules, for a new version of a report (stale versions never get here):
 * - cancelled or entered-in-error: withdrawn from the patient's view (withheld);
 * - registered, partial, preliminary: pending, never released;
 * - a critical value: held until a clinician records the call to the patient (never automatically);
 * - amended or corrected with no final before it: held for a clinician (CORRECTION_BEFORE_FINAL);
 * - a report a clinician withheld: held for a clinician again, whatever the new version says;
 * - a sensitive test: held for a clinician, released automatically at releaseDueAt (the first hold's time);
 * - otherwise released at once: on arrival, or again as an update of a released report.
 */
export function decide(policy: ReleasePolicy, facts: ReportFacts, prior: Prior | undefined, now: Date): Decision {
  if (facts.status === 'cancelled') return { action: 'withhold', reason: 'cancelled by the lab' };
  if (facts.status === 'entered-in-error') return { action: 'withhold', reason: 'entered in error: withdrawn by the lab' };
  if (statusRank(facts.status) === 1) return { action: 'pending', reason: `${facts.status}: released when final` };
  const critical = criticalCodes(policy, facts);
  const sensitive = isSensitive(policy, facts);
  if (critical.length) {
    return { action: 'hold', critical: true, releaseDueAt: null, reason: `critical value (${critical.join(', ')}): released after a clinician has called the patient${sensitive ? '; sensitive test' : ''}` };
  }
  const correction = facts.status === 'amended' || facts.status === 'corrected';
  const finalBefore = !!prior && ((statusRank(prior.status) ?? 0) >= 2 || prior.releasedVersion !== null) && prior.holdReason !== CORRECTION_BEFORE_FINAL;
  if (correction && !finalBefore) {
    return { action: 'hold', critical: false, releaseDueAt: null, reason: CORRECTION_BEFORE_FINAL };
  }
  if (prior?.releaseState === 'withheld') return { action: 'hold', critical: false, releaseDueAt: null, reason: 'withheld earlier: a clinician decides on the new version' };
  if (sensitive) {
    // The automatic release time runs from the first hold: a new version does not restart the clock.
    const due = prior?.releaseState === 'held' && prior.releaseDueAt ? prior.releaseDueAt : new Date(now.getTime() + policy.sensitive.autoReleaseHours * 3_600_000);
    return { action: 'hold', critical: false, releaseDueAt: due, reason: `sensitive test: a clinician reviews it first (released automatically after ${policy.sensitive.autoReleaseHours} h)` };
  }
  if (prior?.releasedVersion) return { action: 'release', reason: `${facts.status}: released again as an update` };
  return { action: 'release', reason: 'released on arrival' };
}
