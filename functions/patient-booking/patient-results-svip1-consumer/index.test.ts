import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { deliver, published, resetDatabase, startFunction, type RunningFunction } from '../../../test/support/fixtures';
import { chemistry, laneEvent, seedPatient, seedResultCatalogue } from '../../../test/support/results';

describe('patient-results-svip1-consumer (the SVIP1 lane)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(async () => { await resetDatabase(); await seedResultCatalogue(); await seedPatient('P-VIP', 'svip1'); });

  it('stores a SVIP1 patient\'s final report on its lane and releases it at once', async () => {
    const res = await deliver(running.url, { type: 'com.medlab.result.received-svip1', data: laneEvent('P-VIP', chemistry('ACC-V'), { tier: 'svip1' }) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const report = await db().diagnosticReport.findUniqueOrThrow({ where: { accession_code: { accession: 'ACC-V', code: 'CHEM7' } } });
    assert.deepEqual([report.lane, report.releaseState], ['svip1', 'released']);
    assert.deepEqual((await published('result-events')).map((e) => [e.key, e.data.status]), [['P-VIP', 'final']]);
    assert.equal((await db().resultAudit.findFirstOrThrow({ where: { action: 'released' } })).actor, 'system:patient-results-svip1-consumer');
  });

  it('refuses another lane\'s event type with a 400 (dead-lettered, never retried)', async () => {
    const res = await deliver(running.url, { type: 'com.medlab.result.received', data: laneEvent('P-VIP', chemistry('ACC-V')) });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'cloudevent/type');
  });
});
