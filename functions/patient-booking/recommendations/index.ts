// A patient opens the portal: the test packages recommended for their age, sex and history, best first, each
// with why (the rules' own words, in their language), its tests and its price. Stored recommendations are
// answered as they are unless stale (other rules, or the catalogue or the profile changed since); then they
// are recomputed. A package withdrawn since is never shown. Patients see their own; staff and services name
// the patient (one the CRM told this system of).
import { route, ok } from '../../shared/http';
import { DomainError } from '../../shared/domain-errors';
import { patientOf } from '../../shared/access';
import { bookablePackages } from '../catalogue';
import { current } from '../recommending';
import { assertRecommendationRules } from '../recommendation-rules';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

assertRecommendationRules();

export const handle = route(
  {
    name: 'recommendations', system, method: 'GET', path: '/api/recommendations',
    summary: 'Test packages recommended for a patient, each with why', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the recommended packages, best first, each with its reasons', schema: view } },
    refuses: {
      'not-found': 'no such patient (never sent by the CRM, or erased)',
      forbidden: 'a patient asking for another patient\'s recommendations',
      invalid: 'staff and services must give a patientId',
    },
  },
  async ({ query, caller, transaction }) => {
    const patientId = patientOf(caller, query.patientId, 'recommendations');

    // A patient asked for their own: no field of the request was at fault.
    const noSuchPatient = () => new DomainError('not-found', 'no such patient', caller.role === 'patient' ? undefined : 'patientId');
    return transaction(async (tx) => {
      const profile = await tx.patient.findUnique({ where: { patientId }, select: { erasedAt: true } });
      // A signed-in patient the CRM has not synced yet still gets what fits anyone; staff name a known patient.
      if (profile?.erasedAt || (!profile && caller.role !== 'patient')) throw noSuchPatient();
      const computed = await current(tx, patientId, new Date());
      if (!computed) throw noSuchPatient();
      const offered = new Map((await bookablePackages(tx, computed.recommendations.map((r) => r.packageCode))).map((p) => [p.code, p]));
      const shown = computed.recommendations.filter((r) => offered.has(r.packageCode));
      return ok({
        patientId, rulesVersion: computed.rulesVersion, computedAt: computed.computedAt.toISOString(),
        recommendations: shown.map((r, i) => {
          const p = offered.get(r.packageCode)!;
          return {
            rank: i + 1, score: r.score, reasons: r.reasons,
            package: { code: p.code, name: p.name, description: p.description, priceVnd: p.priceVnd, serviceId: p.serviceId, sex: p.sex, minAge: p.minAge, maxAge: p.maxAge, tests: p.tests },
          };
        }),
      });
    });
  },
);
