// A report's audit trail for staff holding phi: every receipt, hold, release, call, withholding and read,
// who and when and why, oldest first. Reading the trail is itself a read of the patient's record, so it is
// audited too (the line is in the answer).
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { auditReads } from '../result-access';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-audit', system, method: 'GET', path: '/api/results/audit',
    summary: 'A lab report\'s audit trail: who did what, when and why (the read is audited)', auth: ['staff'], grant: 'phi', query,
    responses: { 200: { description: 'the trail, oldest first', schema: view } },
    refuses: { 'not-found': 'no such report (or its patient was erased)' },
  },
  async ({ query, caller, transaction }) =>
    transaction(async (tx) => {
      const report = await tx.diagnosticReport.findUnique({ where: { id: query.reportId }, select: { id: true, patientId: true, version: true, detachedAt: true } });
      if (!report || report.detachedAt) throw notFound('reportId');
      await auditReads(tx, caller, [{ reportId: report.id, patientId: report.patientId, version: report.version }], 'audit trail');
      const entries = await tx.resultAudit.findMany({ where: { reportId: report.id }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
      return ok({
        reportId: report.id, patientId: report.patientId,
        entries: entries.map((e) => ({ at: e.at.toISOString(), action: e.action, actor: e.actor, reason: e.reason, version: e.version })),
      });
    }),
);
