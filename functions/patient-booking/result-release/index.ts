// A clinician releases a report held for review (a sensitive test): its current version becomes the
// patient's to read, the release is audited with who and why, and result.released goes out in the same
// transaction, once. A critical value is released by recording the call to the patient (result-call).
import { route, ok } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { actorOf, lockedReport } from '../result-access';
import { decisionOf } from '../result-schemas';
import { releaseReport } from '../release';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-release', system, method: 'POST', path: '/api/results/release',
    summary: 'A clinician releases a held lab report to its patient', auth: ['staff'], grant: 'clinician', body,
    responses: { 200: { description: 'the report, released', schema: view } },
    refuses: {
      'not-found': 'no such report',
      conflict: 'the report is not held (already released, pending or withheld); a critical value waits for the call to the patient',
    },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const report = await lockedReport(tx, body.reportId);
      if (report.releaseState !== 'held') throw conflict(`the report is ${report.releaseState}, not held`, 'reportId');
      if (report.critical && !report.calledAt) throw conflict('a critical value is released by recording the call to the patient (POST /api/results/call)', 'reportId');
      await releaseReport(tx, emit, report.id, { actor: actorOf(caller), reason: body.reason, at: new Date() });
      return ok(decisionOf(await tx.diagnosticReport.findUniqueOrThrow({ where: { id: report.id } })));
    }),
);
