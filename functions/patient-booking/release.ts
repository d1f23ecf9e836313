// Releasing a report to its patient, and the audit trail every step of a report's life leaves. A release
// marks the report's current version released, audits who released it and why, and emits result.released
// (ids and codes only) in the same transaction: the notification system tells the patient. The lane
// consumers release at once by default; held reports are released by a clinician (the results API) or by
// the cron when their automatic release time comes.
import type { Tx } from '../shared/db';
import type { PatientBookingEmit } from './system';

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

/** One line of a report's audit trail: who, when, what, why. Never the result itself. */
export async function audit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.resultAudit.create({
    data: { reportId: entry.reportId, patientId: entry.patientId, action: entry.action, actor: entry.actor, reason: entry.reason ?? null, version: entry.version ?? null, ...(entry.at ? { at: entry.at } : {}) },
  });
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
  const { count } = await tx.diagnosticReport.updateMany({
    where: { id: reportId, version: report.version },
    data: { releaseState: 'released', releasedAt: release.at, releasedVersion: report.version, holdReason: null, releaseDueAt: null },
  });
  if (count === 0) return false;
  await audit(tx, { reportId, patientId: report.patientId, action: release.action ?? 'released', actor: release.actor, reason: release.reason, version: report.version, at: release.at });
  await emit('com.medlab.result.released', {
    reportId, patientId: report.patientId, accession: report.accession,
    status: releasedStatus(report.status) as 'final' | 'amended' | 'corrected',
    releasedAt: release.at.toISOString(),
    ...(report.critical ? { critical: true } : {}),
  });
  return true;
}
