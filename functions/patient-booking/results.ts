// A report arriving on its lane (patient-results, -svip1, -svip2): stored as the next version of its
// DiagnosticReport (by accession and code) with that version's Observations, then the release rules decide
// whether the patient sees it now, after a clinician, or not at all (release.ts decide()). Every receipt,
// hold, withdrawal and release is audited, and a release emits result.released in the same transaction.
// - The same content again (a resend under another control id, a redelivery) is no new version: nothing
//   is released twice.
// - A version older in the report's life than the one stored (a preliminary after the final, a final after
//   its correction) is out of order: audited as refused, the stored version kept.
// - A correction with no final before it is stored and held for a clinician, never released automatically.
import { createHash } from 'node:crypto';
import { tableOf, type Tx } from '../shared/db';
import { conflict } from '../shared/domain-errors';
import type { EventData } from '../shared/system';
import type { DiagnosticReport, ReportStatus as DbStatus } from '../shared/generated/prisma/client';
import { audit, auditAll, decide, statusRank, tellReleased, type AuditEntry, type FhirStatus, type Prior } from './release';
import { releasePolicy } from './release-policy';
import type { events, Tier } from './events';
import { system, type PatientBookingEmit } from './system';

export type ResultReceived = EventData<typeof events, 'com.medlab.result.received'>;

export interface ReceiveOutcome {
  reportId: string;
  version: number;
  /** stored: a new version; unchanged: the same content again; stale: older than the stored version. */
  outcome: 'stored' | 'unchanged' | 'stale';
  releaseState: DiagnosticReport['releaseState'];
}

/** Advisory lock namespace of a report (accession + code): two lanes never write one report at once. */
const REPORT_LOCK = 7201;
const reports = tableOf(system, 'diagnostic_report');

const dbStatus = (s: FhirStatus) => s.replace(/-/g, '_') as DbStatus;
export const fhirStatus = (s: DbStatus) => s.replace(/_/g, '-') as FhirStatus;

/** JSON with keys sorted: the same report hashes alike whatever order its producer wrote the keys in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** What a version says (not when or how it came): equal hashes are the same version. */
export const contentHash = (data: ResultReceived) =>
  createHash('sha256').update(canonical({ patientId: data.patientId, accession: data.accession, report: data.report })).digest('hex');

/** Stores the report's new version and applies the release rules. `fn` names the lane consumer (the actor). */
export async function receiveResult(tx: Tx, emit: PatientBookingEmit, data: ResultReceived, lane: Tier, fn: string, now = new Date()): Promise<ReceiveOutcome> {
  const actor = `system:${fn}`;
  const { report } = data;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${REPORT_LOCK}::int, hashtext(${`${data.accession}|${report.code}`}))`;
  const existing = await tx.diagnosticReport.findUnique({ where: { accession_code: { accession: data.accession, code: report.code } } });
  // An accession belongs to one patient: a report of it naming another is never shown to either.
  if (existing && existing.patientId !== data.patientId) throw conflict(`report ${report.code} of accession ${data.accession} belongs to another patient`, 'patientId');

  const hash = contentHash(data);
  if (existing && existing.contentHash === hash) {
    await audit(tx, { reportId: existing.id, patientId: existing.patientId, action: 'received', actor, reason: `the same content again: version ${existing.version} kept`, version: existing.version, at: now });
    return { reportId: existing.id, version: existing.version, outcome: 'unchanged', releaseState: existing.releaseState };
  }
  const incoming = report.status as FhirStatus;
  const storedRank = existing ? statusRank(fhirStatus(existing.status)) : null;
  const incomingRank = statusRank(incoming);
  if (existing && storedRank !== null && incomingRank !== null && incomingRank < storedRank) {
    await audit(tx, { reportId: existing.id, patientId: existing.patientId, action: 'refused', actor, reason: `out of order: ${incoming} after ${fhirStatus(existing.status)}; version ${existing.version} kept`, version: existing.version, at: now });
    return { reportId: existing.id, version: existing.version, outcome: 'stale', releaseState: existing.releaseState };
  }

  const version = existing ? existing.version + 1 : 1;
  // The rules decide before anything is written, so the version is written once, in the state they give.
  const tests = await tx.catalogueTest.findMany({ where: { code: { in: [report.code, ...report.observations.map((o) => o.code)] } }, select: { category: true } });
  const prior: Prior | undefined = existing ? {
    status: fhirStatus(existing.status), releaseState: existing.releaseState, releasedVersion: existing.releasedVersion,
    releaseDueAt: existing.releaseDueAt, holdReason: existing.holdReason, critical: existing.critical,
  } : undefined;
  const decision = decide(releasePolicy(), {
    status: incoming, code: report.code, loinc: report.loinc, observations: report.observations,
    categories: tests.map((t) => t.category).filter((c): c is string => !!c),
  }, prior, now);
  // The new version is released here, under the report's lock and the row's: no other release of this
  // version can race it (the cron and clinicians release only held versions already written).
  const state = decision.action === 'release' ? { releaseState: 'released' as const, releasedAt: now, releasedVersion: version, holdReason: null, releaseDueAt: null, critical: false }
    : decision.action === 'hold' ? { releaseState: 'held' as const, holdReason: decision.reason, releaseDueAt: decision.releaseDueAt, critical: decision.critical }
    : decision.action === 'withhold' ? { releaseState: 'withheld' as const, holdReason: decision.reason, releaseDueAt: null }
    : { releaseState: 'pending' as const, holdReason: null, releaseDueAt: null };

  const fields = {
    loinc: report.loinc ?? null, display: report.display ?? null, orderNumber: data.orderNumber ?? null,
    packageBookingId: data.packageBookingId ?? null, appointmentId: data.appointmentId ?? null, lane,
    status: dbStatus(incoming), version, priority: report.priority ?? null,
    effectiveAt: report.effectiveAt ? new Date(report.effectiveAt) : null, issuedAt: report.issuedAt ? new Date(report.issuedAt) : null,
    receivedAt: new Date(data.receivedAt), contentHash: hash, ...state,
  };
  const stored = existing
    ? await tx.diagnosticReport.update({ where: { id: existing.id }, data: fields })
    : await tx.diagnosticReport.create({ data: { patientId: data.patientId, accession: data.accession, code: report.code, ...fields } });
  // Every version keeps its own observations, so what an amendment changed can be shown.
  await tx.observation.createMany({
    data: report.observations.map((o) => ({
      reportId: stored.id, reportVersion: version, patientId: data.patientId, seq: o.seq, code: o.code, loinc: o.loinc ?? null, display: o.display ?? null,
      valueType: o.valueType, valueNumber: typeof o.value === 'number' ? o.value : null, valueText: typeof o.value === 'string' ? o.value : o.valueText ?? null,
      unit: o.unit ?? null, referenceLow: o.referenceRange?.low ?? null, referenceHigh: o.referenceRange?.high ?? null, referenceText: o.referenceRange?.text ?? null,
      interpretation: o.interpretation ?? [], status: dbStatus(o.status as FhirStatus), effectiveAt: o.effectiveAt ? new Date(o.effectiveAt) : null,
    })),
  });
  const base = { reportId: stored.id, patientId: data.patientId, actor, version, at: now };
  const decided: AuditEntry | undefined = decision.action === 'release' ? { ...base, action: 'released', reason: decision.reason }
    : decision.action === 'hold' ? { ...base, action: 'held', reason: decision.reason }
    : decision.action === 'withhold' ? { ...base, action: 'withheld', reason: decision.reason }
    : undefined;
  await auditAll(tx, [
    { ...base, action: 'received', reason: `${incoming} from the LIS on the ${lane} lane` },
    ...(existing ? [{ ...base, action: 'amended' as const, reason: `version ${version} (${incoming}) replaces version ${existing.version}` }] : []),
    ...(decided ? [decided] : []),
  ]);
  if (decision.action === 'release') await tellReleased(emit, stored, now);
  return { reportId: stored.id, version, outcome: 'stored', releaseState: state.releaseState };
}

/** Reports held for a sensitive test whose automatic release time came (none critical), locked for release. */
export async function dueHeldReports(tx: Tx, now: Date, limit: number): Promise<string[]> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text AS id FROM ${reports}
    WHERE release_state = 'held' AND NOT critical AND release_due_at <= ${now}::timestamptz
    ORDER BY release_due_at LIMIT ${limit}
    FOR UPDATE SKIP LOCKED`;
  return rows.map((r) => r.id);
}
