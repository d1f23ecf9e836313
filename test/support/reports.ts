// Lab reports as the lane consumers and the release rules would leave them, for the results API's tests: a
// DiagnosticReport with its Observations for every version asked for, its release state, and an audit line
// for each version released (the line releaseReport writes, which says what the patient saw before), plus
// the tokens of the staff who read and decide on results.
import { createHash } from 'node:crypto';
import { db } from '../../functions/shared/db';
import { signToken, type Grant } from '../../functions/shared/auth';
import type { ReleaseState, ReportStatus } from '../../functions/shared/generated/prisma/client';

/** Staff holding these grants (phi: read results; clinician: release, call, withhold). */
export const resultStaffToken = (grants: Grant[] = ['phi'], sub = 'dr-lan') =>
  signToken({ sub, role: 'staff', grants, exp: Math.floor(Date.now() / 1000) + 3600 });

export interface ObservationSeed {
  code: string;
  loinc?: string;
  display?: string;
  /** A number (NM) or text (ST). */
  value?: number | string;
  /** The LIS's writing beside a number ('<0.1'). */
  valueText?: string;
  unit?: string;
  low?: number;
  high?: number;
  rangeText?: string;
  flags?: string[];
  status?: ReportStatus;
  effectiveAt?: Date;
}

export interface ReportSeed {
  patientId: string;
  accession: string;
  code: string;
  loinc?: string;
  display?: string;
  /** The newest version's status. */
  status: ReportStatus;
  /** The newest version's release state. */
  releaseState: ReleaseState;
  /** The newest version (1 by default): versions 1..version are written. */
  version?: number;
  /** The newest version's results. */
  observations: ObservationSeed[];
  /** Earlier versions' results, by version (a version not named here repeats the newest's). */
  earlier?: Record<number, ObservationSeed[]>;
  /** Versions released so far (default: the newest when releaseState is released, else none). */
  releasedVersions?: number[];
  critical?: boolean;
  holdReason?: string;
  releaseDueAt?: Date;
  effectiveAt?: Date;
  receivedAt?: Date;
  createdAt?: Date;
  detached?: boolean;
}

export async function seedReport(seed: ReportSeed) {
  const version = seed.version ?? 1;
  const released = seed.releasedVersions ?? (seed.releaseState === 'released' ? [version] : []);
  const releasedVersion = released.length ? Math.max(...released) : null;
  const effectiveAt = seed.effectiveAt ?? new Date(Date.now() - 86_400_000);
  const receivedAt = seed.receivedAt ?? new Date(effectiveAt.getTime() + 3600_000);
  const report = await db().diagnosticReport.create({
    data: {
      patientId: seed.patientId, accession: seed.accession, code: seed.code, loinc: seed.loinc ?? null, display: seed.display ?? null,
      lane: 'standard', status: seed.status, version, effectiveAt, issuedAt: receivedAt, receivedAt,
      contentHash: createHash('sha256').update(JSON.stringify(seed)).digest('hex'),
      releaseState: seed.releaseState, holdReason: seed.holdReason ?? null, releaseDueAt: seed.releaseDueAt ?? null,
      releasedVersion, releasedAt: releasedVersion ? receivedAt : null, critical: seed.critical ?? false,
      detachedAt: seed.detached ? new Date() : null, ...(seed.createdAt ? { createdAt: seed.createdAt } : {}),
    },
  });
  for (let v = 1; v <= version; v++) {
    const rows = v === version ? seed.observations : seed.earlier?.[v] ?? seed.observations;
    await db().observation.createMany({
      data: rows.map((o, i) => ({
        reportId: report.id, reportVersion: v, patientId: seed.patientId, seq: i + 1, code: o.code, loinc: o.loinc ?? null, display: o.display ?? null,
        valueType: typeof o.value === 'number' ? 'NM' : 'ST',
        valueNumber: typeof o.value === 'number' ? o.value : null,
        valueText: typeof o.value === 'string' ? o.value : o.valueText ?? null,
        unit: o.unit ?? null, referenceLow: o.low ?? null, referenceHigh: o.high ?? null, referenceText: o.rangeText ?? null,
        interpretation: o.flags ?? [], status: o.status ?? 'final', effectiveAt: o.effectiveAt ?? effectiveAt,
      })),
    });
  }
  for (const v of [...released].sort((a, b) => a - b)) {
    await db().resultAudit.create({ data: { reportId: report.id, patientId: seed.patientId, action: 'released', actor: 'system:lane', reason: 'default', version: v, at: new Date(receivedAt.getTime() + v * 60_000) } });
  }
  return report;
}
