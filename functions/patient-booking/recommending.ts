// A patient's recommendations, computed and stored: the engine (recommend.ts) fed from this system's tables:
// the profile copy, the bookable catalogue, the patient's released results (the released version of each
// report, never a detached one) and their completed package bookings. The recommend consumer recomputes
// after a release or a completed booking; GET /api/recommendations recomputes what is missing or stale.
import type { Db, Tx } from '../shared/db';
import { bookablePackages, catalogueChangedAt } from './catalogue';
import { recommend, type History, type Profile, type Recommended, type Reason } from './recommend';
import { recommendationRules } from './recommendation-rules';

export interface Computed {
  rulesVersion: string;
  computedAt: Date;
  recommendations: Recommended[];
}

/** What the engine reads of a patient: released results and the packages they have done. */
async function historyOf(tx: Db | Tx, patientId: string, done: Record<string, Date>): Promise<History> {
  const observations = await tx.observation.findMany({
    where: { patientId, report: { patientId, releaseState: 'released', detachedAt: null } },
    select: {
      code: true, loinc: true, valueNumber: true, unit: true, referenceLow: true, referenceHigh: true, interpretation: true, effectiveAt: true, reportVersion: true,
      report: { select: { releasedVersion: true, effectiveAt: true, receivedAt: true } },
    },
  });
  // A result the LIS sent without LOINC is known by the catalogue's code for it.
  const unnamed = [...new Set(observations.filter((o) => !o.loinc).map((o) => o.code))];
  const loincOf = new Map((unnamed.length ? await tx.catalogueTest.findMany({ where: { code: { in: unnamed } }, select: { code: true, loinc: true } }) : []).map((t) => [t.code, t.loinc]));
  const results = observations
    .filter((o) => o.reportVersion === o.report.releasedVersion)
    .map((o) => ({
      loinc: o.loinc ?? loincOf.get(o.code) ?? '', value: o.valueNumber, unit: o.unit, low: o.referenceLow, high: o.referenceHigh,
      interpretation: o.interpretation, at: o.effectiveAt ?? o.report.effectiveAt ?? o.report.receivedAt,
    }))
    .filter((r) => r.loinc);
  const bookings = await tx.packageBooking.findMany({ where: { patientId, status: 'completed' }, select: { packageCode: true, startsAt: true, updatedAt: true } });
  const packagesDone: Record<string, Date> = { ...done };
  for (const b of bookings) {
    const at = b.startsAt ?? b.updatedAt;
    if (!packagesDone[b.packageCode] || packagesDone[b.packageCode] < at) packagesDone[b.packageCode] = at;
  }
  return { results, packagesDone };
}

/**
 * Recomputes and stores the patient's recommendations (replacing the earlier ones). `done` adds packages
 * known to be completed that the tables may not say yet (the booking event being handled). An erased
 * patient gets none.
 */
export async function recompute(tx: Tx, patientId: string, now: Date, done: Record<string, Date> = {}): Promise<Computed | undefined> {
  // One recomputation of a patient at a time: a release and a page view racing write one consistent set.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('patient_booking.recommendation'), hashtext(${patientId}))`;
  const patient = await tx.patient.findUnique({ where: { patientId } });
  if (patient?.erasedAt) return undefined;
  const rules = recommendationRules();
  const profile: Profile = { sex: patient?.sex, birthDate: patient?.birthDate, language: patient?.language === 'en' ? 'en' : 'vi' };
  const recommendations = recommend(rules, await bookablePackages(tx), profile, await historyOf(tx, patientId, done), now);
  await tx.recommendation.deleteMany({ where: { patientId } });
  if (recommendations.length) {
    await tx.recommendation.createMany({
      data: recommendations.map((r) => ({ patientId, packageCode: r.packageCode, rank: r.rank, score: r.score, reasons: r.reasons as unknown as object[], rulesVersion: rules.version, computedAt: now })),
    });
  }
  return { rulesVersion: rules.version, computedAt: now, recommendations };
}

/**
 * The stored recommendations, or fresh ones when there are none or they are stale: computed under other rules,
 * before the catalogue or the patient's profile (their language too) last changed.
 */
export async function current(tx: Tx, patientId: string, now: Date): Promise<Computed | undefined> {
  const rules = recommendationRules();
  const stored = await tx.recommendation.findMany({ where: { patientId }, orderBy: { rank: 'asc' } });
  if (stored.length) {
    const computedAt = stored[0].computedAt;
    const [patient, catalogue] = await Promise.all([tx.patient.findUnique({ where: { patientId }, select: { updatedAt: true } }), catalogueChangedAt(tx)]);
    const fresh = stored.every((r) => r.rulesVersion === rules.version) && (!catalogue || catalogue <= computedAt) && (!patient || patient.updatedAt <= computedAt);
    if (fresh) {
      return {
        rulesVersion: rules.version, computedAt,
        recommendations: stored.map((r) => ({ packageCode: r.packageCode, rank: r.rank, score: r.score, reasons: r.reasons as unknown as Reason[] })),
      };
    }
  }
  return recompute(tx, patientId, now);
}

