// A clinician withholds a report not yet released (held, or still pending): the patient does not read it in
// the portal (e.g. it is to be given in person), it is never released automatically, and the decision is
// audited with who and why. Nothing is told to the patient.
import { route, ok } from '../../shared/http';
import { conflict } from '../../shared/domain-errors';
import { actorOf, lockedReport } from '../result-access';
import { decisionOf } from '../result-schemas';
import { audit } from '../release';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'result-withhold', system, method: 'POST', path: '/api/results/withhold',
    summary: 'A clinician withholds a held or pending lab report from the portal', auth: ['staff'], grant: 'clinician', body,
    responses: { 200: { description: 'the report, withheld', schema: view } },
    refuses: {
      'not-found': 'no such report',
      conflict: 'the report is already released or withheld',
    },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx) => {
      const report = await lockedReport(tx, body.reportId);
      if (report.releaseState !== 'held' && report.releaseState !== 'pending') throw conflict(`the report is ${report.releaseState}: only a held or pending report is withheld`, 'reportId');
      const at = new Date();
      const withheld = await tx.diagnosticReport.update({ where: { id: report.id }, data: { releaseState: 'withheld', holdReason: body.reason, releaseDueAt: null } });
      await audit(tx, { reportId: report.id, patientId: report.patientId, action: 'withheld', actor: actorOf(caller), reason: body.reason, version: report.version, at });
      return ok(decisionOf(withheld));
    }),
);
