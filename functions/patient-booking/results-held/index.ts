// The clinicians' worklist: reports held for review (a sensitive test until its automatic release time, a
// critical value until the call to the patient is recorded), oldest first, so the longest wait is decided
// first. Results belong to no branch: any clinician may decide. No values here.
import { route, ok } from '../../shared/http';
import { codeOf, fhirStatus } from '../result-views';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'results-held', system, method: 'GET', path: '/api/results/held',
    summary: 'Held lab reports waiting for a clinician, oldest first', auth: ['staff'], grant: 'clinician', query,
    responses: { 200: { description: 'the held reports', schema: view } },
  },
  async ({ query, db }) => {
    const rows = await db.diagnosticReport.findMany({
      where: { releaseState: 'held', detachedAt: null, ...(query.critical !== undefined ? { critical: query.critical } : {}) },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      take: query.limit + 1,
    });
    return ok({
      held: rows.slice(0, query.limit).map((r) => ({
        reportId: r.id, patientId: r.patientId, accession: r.accession, code: codeOf(r.code, r.loinc, r.display), status: fhirStatus(r.status), version: r.version,
        holdReason: r.holdReason, since: r.receivedAt.toISOString(), releaseDueAt: r.releaseDueAt?.toISOString() ?? null, critical: r.critical, releasedVersion: r.releasedVersion,
      })),
      more: rows.length > query.limit,
    });
  },
);
