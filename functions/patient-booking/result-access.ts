// Who reads which lab results, and which version each reader sees. A patient reads their own released
// reports, in the released version (a newer version waits unseen until it is released; a withheld report and
// an erased patient's detached report are not there); a service reads what the patient reads; staff read
// with the phi grant, every version including unreleased ones. A report the caller may not read answers as
// one that does not exist. Every read of a report by staff or a service, and every patient read of values, is
// audited.
import type { Caller } from '../shared/auth';
import { actorOf, holds } from '../shared/access';
import { forbidden, notFound } from '../shared/domain-errors';
import { tableOf, type Tx } from '../shared/db';
import type { DiagnosticReport } from '../shared/generated/prisma/client';
import { auditAll } from './release';
import { system } from './system';

/** How the audit trail names the caller (shared/access.ts). */
export { actorOf };

/** Staff read results only holding phi (their reads are audited); patients and services need no grant. */
export function assertMayRead(caller: Caller): void {
  if (caller.role === 'staff' && !holds(caller, 'phi')) throw forbidden('reading lab results needs the phi grant');
}

type Visibility = Pick<DiagnosticReport, 'version' | 'releasedVersion' | 'releaseState' | 'detachedAt'>;

/** The version the caller sees: staff the newest, others the released one; undefined: nothing to see. */
export function shownVersion(caller: Caller, report: Visibility): number | undefined {
  if (report.detachedAt) return undefined;
  if (caller.role === 'staff') return report.version;
  if (report.releaseState === 'withheld' || report.releasedVersion === null) return undefined;
  return report.releasedVersion;
}

/** The same rule as a Prisma filter on reports. */
export const visibleTo = (caller: Caller) =>
  caller.role === 'staff'
    ? { detachedAt: null }
    : { detachedAt: null, releasedVersion: { not: null }, releaseState: { not: 'withheld' as const } };

/** One report the caller may read, with the version they see; 404 otherwise (whoever's it is). */
export async function readableReport(tx: Tx, caller: Caller, reportId: string): Promise<{ report: DiagnosticReport; version: number }> {
  const report = await tx.diagnosticReport.findUnique({ where: { id: reportId } });
  const version = report && (caller.role !== 'patient' || report.patientId === caller.patientId) ? shownVersion(caller, report) : undefined;
  if (!report || version === undefined) throw notFound('reportId');
  return { report, version };
}

/** Versions released to the patient, and when (from the trail: releaseReport writes one line per release). */
export async function releasesOf(tx: Tx, reportId: string): Promise<Map<number, Date>> {
  const rows = await tx.resultAudit.findMany({ where: { reportId, action: { in: ['released', 'auto-released'] }, version: { not: null } }, select: { version: true, at: true }, orderBy: { at: 'asc' } });
  return new Map(rows.map((r) => [r.version!, r.at]));
}

/** Reads of reports, one audit line each: who, why (what they opened), which version. */
export async function auditReads(tx: Tx, caller: Caller, reads: Array<{ reportId: string; patientId: string; version: number }>, reason: string): Promise<void> {
  const at = new Date();
  if (reads.length) await auditAll(tx, reads.map((r) => ({ ...r, action: 'viewed' as const, actor: actorOf(caller), reason, at })));
}

/**
 * A clinician's decision on a report, taken under the row's lock: two clinicians deciding at once are
 * decided one after the other, and the second sees what the first did (a release is told once).
 */
export async function lockedReport(tx: Tx, reportId: string): Promise<DiagnosticReport> {
  await tx.$queryRaw`SELECT 1 FROM ${tableOf(system, 'diagnostic_report')} WHERE id = ${reportId}::uuid FOR UPDATE`;
  const report = await tx.diagnosticReport.findUnique({ where: { id: reportId } });
  if (!report || report.detachedAt) throw notFound('reportId');
  return report;
}
