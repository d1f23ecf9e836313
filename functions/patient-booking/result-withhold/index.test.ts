import { strict as assert } from 'node:assert';
import * as withhold from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, published, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

describe('result-withhold (POST /api/results/withhold)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(withhold); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const send = (body: unknown) => call(fn.url, { token: resultStaffToken(['clinician'], 'dr-lan'), body });

  it('a clinician withholds a held report: never auto-released, audited with why, nothing told; a released one is 409', async () => {
    const held = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'BRCA', status: 'final', releaseState: 'held', holdReason: 'sensitive', releaseDueAt: new Date(Date.now() + 3600_000), observations: [{ code: 'BRCA1', value: 'variant' }] });
    const res = await send({ reportId: held.id, reason: 'to be given by the geneticist in person' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const stored = await db().diagnosticReport.findUniqueOrThrow({ where: { id: held.id } });
    assert.deepEqual([stored.releaseState, stored.releaseDueAt, stored.holdReason], ['withheld', null, 'to be given by the geneticist in person']);
    const [line] = await db().resultAudit.findMany({ where: { reportId: held.id } });
    assert.deepEqual([line.action, line.actor, line.reason], ['withheld', 'staff:dr-lan', 'to be given by the geneticist in person']);
    assert.deepEqual(await published('result-events'), []);
    assert.equal((await send({ reportId: held.id, reason: 'again' })).status, 409);

    const released = await seedReport({ patientId: 'p-1', accession: 'ACC-2', code: 'CBC', status: 'final', releaseState: 'released', observations: [{ code: 'HGB', value: 140 }] });
    assert.equal((await send({ reportId: released.id, reason: 'too late' })).status, 409);
    const noReason = await send({ reportId: released.id });
    assert.deepEqual([noReason.status, noReason.body['invalid-params'][0].name], [400, 'body/reason']);
  });
});
