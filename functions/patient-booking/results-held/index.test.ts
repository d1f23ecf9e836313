import { strict as assert } from 'node:assert';
import * as heldFn from './index';
import { resetDatabase, startFunction, call, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

describe('results-held (GET /api/results/held)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(heldFn); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('clinicians see held reports oldest first with why, since when, the automatic release time and criticality; no values', async () => {
    const now = Date.now();
    const hour = (h: number) => new Date(now - h * 3600_000);
    const due = new Date(now + 20 * 3600_000);
    const sensitive = await seedReport({ patientId: 'p-1', accession: 'A-1', code: 'HIV', status: 'final', releaseState: 'held', holdReason: 'sensitive', releaseDueAt: due, receivedAt: hour(5), observations: [{ code: 'HIV', value: 'reactive' }] });
    const critical = await seedReport({ patientId: 'p-2', accession: 'A-2', code: 'K', status: 'final', releaseState: 'held', holdReason: 'critical', critical: true, receivedAt: hour(1), observations: [{ code: 'K', value: 7.2, flags: ['HH'] }] });
    await seedReport({ patientId: 'p-3', accession: 'A-3', code: 'CBC', status: 'final', releaseState: 'released', receivedAt: hour(9), observations: [{ code: 'HGB', value: 1 }] });
    await seedReport({ patientId: 'p-4', accession: 'A-4', code: 'HIV', status: 'final', releaseState: 'held', detached: true, receivedAt: hour(8), observations: [{ code: 'HIV', value: 'x' }] });
    const res = await call(fn.url, { token: resultStaffToken(['clinician']) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.held.map((h: { reportId: string; holdReason: string; since: string; releaseDueAt: string | null; critical: boolean }) => [h.reportId, h.holdReason, h.since, h.releaseDueAt, h.critical]), [
      [sensitive.id, 'sensitive', hour(5).toISOString(), due.toISOString(), false],
      [critical.id, 'critical', hour(1).toISOString(), null, true],
    ]);
    assert.ok(!JSON.stringify(res.body).includes('reactive'));
    const onlyCritical = await call(fn.url, { token: resultStaffToken(['clinician']), query: { critical: 'true', limit: '1' } });
    assert.deepEqual([onlyCritical.body.held.map((h: { reportId: string }) => h.reportId), onlyCritical.body.more], [[critical.id], false]);
  });

  it('staff without the clinician grant are refused (403)', async () => {
    assert.equal((await call(fn.url, { token: staffToken() })).status, 403);
    assert.equal((await call(fn.url, { token: resultStaffToken(['phi']) })).status, 403);
  });
});
