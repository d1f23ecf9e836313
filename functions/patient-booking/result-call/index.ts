// A critical value is heard from a clinician before it is read: the clinician records the call to the patient
// (who, when, a note; audited as called) and that releases the report, so result.released says critical and
// the notice bypasses quiet hours. Only a held critical report can be called about, once.
import { route, ok } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { actorOf, lockedReport } from '../result-access';
import { decisionOf } from '../result-schemas';
import { audit, releaseReport } from '../release';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-call', system, method: 'POST', path: '/api/results/call',
    summary: 'A clinician records the call to the patient about a critical value, which releases the report', auth: ['staff'], grant: 'clinician', body,
    responses: { 200: { description: 'the report, called about and released', schema: view } },
    refuses: {
      'not-found': 'no such report',
      conflict: 'the report holds no critical value, or is not held (already called about and released, withheld)',
    },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const report = await lockedReport(tx, body.reportId);
      if (!report.critical) throw conflict('the report holds no critical value: release it (POST /api/results/release)', 'reportId');
      if (report.releaseState !== 'held') throw conflict(`the report is ${report.releaseState}, not held`, 'reportId');
      const at = new Date();
      const actor = actorOf(caller);
      await tx.diagnosticReport.update({ where: { id: report.id }, data: { calledAt: at, calledBy: actor } });
      await audit(tx, { reportId: report.id, patientId: report.patientId, action: 'called', actor, reason: body.note ?? 'patient called', version: report.version, at });
      await releaseReport(tx, emit, report.id, { actor, reason: 'patient called', at });
      return ok(decisionOf(await tx.diagnosticReport.findUniqueOrThrow({ where: { id: report.id } })));
    }),
);
