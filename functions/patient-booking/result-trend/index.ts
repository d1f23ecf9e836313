// One LOINC code across a patient's visits, oldest first: each point's time, value, unit and flags and the
// report it comes from, in the version the reader sees (a patient's: released ones only). A change of unit
// between points is shown as the lab reported it and said so, never converted. Audited per report read.
import { route, ok } from '../../shared/http';
import { assertMayRead, auditReads, shownVersion, visibleTo } from '../result-access';
import { patientOf } from '../../shared/access';
import { trendOf } from '../result-views';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-trend', system, method: 'GET', path: '/api/results/trend',
    summary: 'One LOINC code\'s results across a patient\'s visits, oldest first (units as reported)', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the points (none when the patient has no result of the code)', schema: view } },
    refuses: {
      forbidden: 'staff without the phi grant; a patient naming another patient',
      invalid: 'staff and services must name the patient',
    },
  },
  async ({ query, caller, transaction }) => {
    assertMayRead(caller);
    const patientId = patientOf(caller, query.patientId, 'results');
    return transaction(async (tx) => {
      const rows = await tx.observation.findMany({
        where: { patientId, loinc: query.loinc, report: { patientId, ...visibleTo(caller) } },
        include: { report: { select: { id: true, accession: true, version: true, releasedVersion: true, releaseState: true, detachedAt: true, effectiveAt: true, receivedAt: true } } },
      });
      const seen = rows.filter((o) => o.reportVersion === shownVersion(caller, o.report));
      const trend = trendOf(seen.map((o) => ({ reportId: o.reportId, accession: o.report.accession, version: o.reportVersion, at: o.effectiveAt ?? o.report.effectiveAt ?? o.report.receivedAt, observation: o })));
      const reports = new Map(seen.map((o) => [o.reportId, { reportId: o.reportId, patientId, version: o.reportVersion }]));
      await auditReads(tx, caller, [...reports.values()], `trend ${query.loinc}`);
      return ok({ patientId, loinc: query.loinc, ...trend });
    });
  },
);
