// A patient's lab reports, newest first (by when the lab first reported them), a page at a time: a patient
// their own released ones, a service a named patient's released ones, staff with phi every report of the
// patient they name with where its release stands. Codes, dates and counts, no values. A read by staff or a
// service is audited per report listed; an erased patient's detached reports are never listed.
import { route, ok } from '../../shared/http';
import { after, pageOf, positionOf } from '../../shared/paging';
import { assertMayRead, auditReads, shownVersion, visibleTo } from '../result-access';
import { patientOf } from '../../shared/access';
import { codeOf, isAbnormal, statusOf } from '../result-views';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'results', system, method: 'GET', path: '/api/results',
    summary: 'A patient\'s lab reports, newest first, with counts of results and abnormal ones', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'a page of reports and the cursor of the next (null on the last page)', schema: view } },
    refuses: {
      forbidden: 'staff without the phi grant; a patient naming another patient',
      invalid: 'staff and services must name the patient; a cursor this list did not give',
    },
  },
  async ({ query, caller, transaction }) => {
    assertMayRead(caller);
    const patientId = patientOf(caller, query.patientId, 'results');
    return transaction(async (tx) => {
      const rows = await tx.diagnosticReport.findMany({
        where: { patientId, ...visibleTo(caller), ...(query.cursor ? after(positionOf(query.cursor)) : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const { shown, nextCursor } = pageOf(rows, query.limit);
      const pages = shown.map((r) => ({ report: r, version: shownVersion(caller, r)! }));
      const observations = pages.length
        ? await tx.observation.findMany({
          where: { OR: pages.map((p) => ({ reportId: p.report.id, reportVersion: p.version })) },
          select: { reportId: true, status: true, interpretation: true },
        })
        : [];
      if (caller.role !== 'patient') await auditReads(tx, caller, pages.map((p) => ({ reportId: p.report.id, patientId, version: p.version })), 'list');
      return ok({
        patientId,
        results: pages.map(({ report: r, version }) => {
          const mine = observations.filter((o) => o.reportId === r.id);
          return {
            reportId: r.id, accession: r.accession,
            code: codeOf(r.code, r.loinc, r.display),
            status: statusOf(r, version, mine), version,
            effectiveAt: r.effectiveAt?.toISOString() ?? null, releasedAt: r.releasedAt?.toISOString() ?? null,
            observationCount: mine.length, abnormalCount: mine.filter((o) => isAbnormal(o.interpretation)).length,
            ...(caller.role === 'staff' ? { releaseState: r.releaseState, critical: r.critical, holdReason: r.holdReason } : {}),
          };
        }),
        nextCursor,
      });
    });
  },
);
