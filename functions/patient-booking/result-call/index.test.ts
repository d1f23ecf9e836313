import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as callFn from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, published, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

const potassium = { code: 'K', loinc: '2823-3', value: 7.1, unit: 'mmol/L', flags: ['HH'] };

describe('result-call (POST /api/results/call)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(callFn); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const clinician = resultStaffToken(['clinician'], 'dr-lan');
  const send = (body: unknown, tok = clinician) => call(fn.url, { token: tok, body });

  it('recording the call about a critical value releases the report: called by whom and when, audited, result.released says critical', async () => {
    const report = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'CHEM', status: 'final', releaseState: 'held', holdReason: 'critical', critical: true, observations: [potassium] });
    const res = await send({ reportId: report.id, note: 'asked to come to the ER' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.state, res.body.critical, res.body.calledBy, typeof res.body.calledAt], ['released', true, 'staff:dr-lan', 'string']);
    const trail = await db().resultAudit.findMany({ where: { reportId: report.id }, orderBy: { id: 'asc' } });
    assert.deepEqual(trail.map((t) => [t.action, t.actor, t.reason]), [['called', 'staff:dr-lan', 'asked to come to the ER'], ['released', 'staff:dr-lan', 'patient called']]);
    const events = await published('result-events');
    assert.deepEqual(events.map((e) => [e.type, e.data.reportId, e.data.critical]), [['com.medlab.result.released', report.id, true]]);

    const again = await send({ reportId: report.id });
    assert.equal(again.status, 409);
    assert.equal((await published('result-events')).length, 1);
  });

  it('a report with no critical value is 409 (it is released, not called about); unknown 404; no grant 403; bad id 400', async () => {
    const sensitive = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'HIV', status: 'final', releaseState: 'held', holdReason: 'sensitive', observations: [{ code: 'HIV', value: 'reactive' }] });
    const res = await send({ reportId: sensitive.id });
    assert.deepEqual([res.status, res.body['invalid-params'][0].name], [409, 'body/reportId']);
    assert.equal((await send({ reportId: randomUUID() })).status, 404);
    assert.equal((await send({ reportId: sensitive.id }, staffToken())).status, 403);
    const bad = await send({ reportId: 'x' });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'body/reportId']);
    assert.equal((await db().diagnosticReport.findUniqueOrThrow({ where: { id: sensitive.id } })).calledAt, null);
  });
});
