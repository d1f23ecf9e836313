// One lab report as its reader sees it: a patient (or a service) the released version only, so a newer
// version held for a clinician stays invisible until it is released; staff with phi the newest version and
// where its release stands. With it, what changed from the version released before (an amended or corrected
// report). Every read is audited, the patient's too; a report the caller may not read is 404, as if absent.
import { route, ok } from '../../shared/http';
import { assertMayRead, auditReads, readableReport, releasesOf } from '../result-access';
import { changesBetween, observationView, reportView, statusOf } from '../result-views';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-detail', system, method: 'GET', path: '/api/results/detail',
    summary: 'A lab report with its results and what changed in an amended one (every read audited)', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the report', schema: view } },
    refuses: {
      'not-found': 'no such report, or not one the caller may read (another patient\'s, not released yet, withheld)',
      forbidden: 'staff without the phi grant',
    },
  },
  async ({ query, caller, transaction }) => {
    assertMayRead(caller);
    return transaction(async (tx) => {
      const { report, version } = await readableReport(tx, caller, query.reportId);
      const releases = await releasesOf(tx, report.id);
      const previous = Math.max(0, ...[...releases.keys()].filter((v) => v < version));
      const rows = await tx.observation.findMany({ where: { reportId: report.id, reportVersion: { in: [version, previous] } }, orderBy: { seq: 'asc' } });
      const shown = rows.filter((o) => o.reportVersion === version);
      await auditReads(tx, caller, [{ reportId: report.id, patientId: report.patientId, version }], 'detail');
      const releasedAt = (releases.get(version) ?? (version === report.releasedVersion ? report.releasedAt : null))?.toISOString() ?? null;
      return ok({
        report: reportView(report, version, statusOf(report, version, shown)),
        observations: shown.map(observationView),
        release: caller.role === 'staff'
          ? {
            releasedAt, state: report.releaseState, releasedVersion: report.releasedVersion, holdReason: report.holdReason,
            releaseDueAt: report.releaseDueAt?.toISOString() ?? null, critical: report.critical, calledAt: report.calledAt?.toISOString() ?? null, calledBy: report.calledBy,
          }
          : { releasedAt },
        changes: previous ? { fromVersion: previous, toVersion: version, observations: changesBetween(rows.filter((o) => o.reportVersion === previous), shown) } : null,
      });
    });
  },
);
