import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as auditFn from './index';
import { resetDatabase, startFunction, call, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

describe('result-audit (GET /api/results/audit)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(auditFn); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('staff with phi read the trail oldest first (who, when, what, why, version), their own read of it included', async () => {
    const report = await seedReport({ patientId: 'p-1', accession: 'A-1', code: 'CBC', status: 'amended', releaseState: 'released', version: 2, releasedVersions: [1, 2], observations: [{ code: 'HGB', value: 140 }] });
    const res = await call(fn.url, { token: resultStaffToken(['phi'], 'dr-lan'), query: { reportId: report.id } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.patientId, 'p-1');
    assert.deepEqual(res.body.entries.map((e: { action: string; actor: string; reason: string; version: number }) => [e.action, e.actor, e.reason, e.version]), [
      ['released', 'system:lane', 'default', 1],
      ['released', 'system:lane', 'default', 2],
      ['viewed', 'staff:dr-lan', 'audit trail', 2],
    ]);
  });

  it('staff without phi are refused (403); an unknown or detached report is 404; a bad id 400 naming query/reportId', async () => {
    const detached = await seedReport({ patientId: 'p-1', accession: 'A-1', code: 'CBC', status: 'final', releaseState: 'released', detached: true, observations: [{ code: 'HGB', value: 140 }] });
    assert.equal((await call(fn.url, { token: staffToken(), query: { reportId: detached.id } })).status, 403);
    for (const id of [detached.id, randomUUID()]) assert.equal((await call(fn.url, { token: resultStaffToken(), query: { reportId: id } })).status, 404);
    const bad = await call(fn.url, { token: resultStaffToken(), query: { reportId: 'nope' } });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'query/reportId']);
  });
});
