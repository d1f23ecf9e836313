import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as release from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, published, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

const hiv = { code: 'HIV', display: 'HIV 1/2 Ag/Ab', value: 'non-reactive' };

describe('result-release (POST /api/results/release)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(release); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const clinician = resultStaffToken(['clinician'], 'dr-lan');
  const send = (body: unknown, tok = clinician) => call(fn.url, { token: tok, body });

  it('a clinician releases a held report: released, audited with who and why, result.released told once; a second release is 409', async () => {
    const report = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'HIV', status: 'final', releaseState: 'held', holdReason: 'sensitive', releaseDueAt: new Date(Date.now() + 86_400_000), observations: [hiv] });
    const res = await send({ reportId: report.id, reason: 'reviewed with the counsellor' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.state, res.body.releasedVersion, res.body.critical], ['released', 1, false]);
    const stored = await db().diagnosticReport.findUniqueOrThrow({ where: { id: report.id } });
    assert.deepEqual([stored.releaseState, stored.holdReason, stored.releaseDueAt], ['released', null, null]);
    const [line] = await db().resultAudit.findMany({ where: { reportId: report.id, action: 'released' } });
    assert.deepEqual([line.actor, line.reason, line.version], ['staff:dr-lan', 'reviewed with the counsellor', 1]);

    const again = await send({ reportId: report.id, reason: 'again' });
    assert.deepEqual([again.status, again.body['invalid-params'][0].name], [409, 'body/reportId']);
    const events = await published('result-events');
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].type, events[0].data.reportId, events[0].data.patientId, events[0].data.status, events[0].data.critical], ['com.medlab.result.released', report.id, 'p-1', 'final', undefined]);
    assert.ok(!JSON.stringify(events[0].data).includes('non-reactive'), 'no value in the event');
  });

  it('two clinicians releasing at once: one release, one 409, one event', async () => {
    const report = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'HIV', status: 'final', releaseState: 'held', observations: [hiv] });
    const answers = await Promise.all([send({ reportId: report.id, reason: 'a' }), send({ reportId: report.id, reason: 'b' }, resultStaffToken(['clinician'], 'dr-minh'))]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
    assert.equal((await published('result-events')).length, 1);
    assert.equal(await db().resultAudit.count({ where: { reportId: report.id, action: 'released' } }), 1);
  });

  it('a critical value waits for the call (409); a pending report is not held (409); an unknown report is 404', async () => {
    const critical = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'K', status: 'final', releaseState: 'held', holdReason: 'critical', critical: true, observations: [{ code: 'K', value: 7.1, flags: ['HH'] }] });
    const pending = await seedReport({ patientId: 'p-1', accession: 'ACC-2', code: 'CBC', status: 'preliminary', releaseState: 'pending', observations: [{ code: 'HGB', value: 140 }] });
    const call1 = await send({ reportId: critical.id, reason: 'ok' });
    assert.equal(call1.status, 409);
    assert.match(call1.body.detail, /call/);
    assert.equal((await send({ reportId: pending.id, reason: 'ok' })).status, 409);
    assert.equal((await send({ reportId: randomUUID(), reason: 'ok' })).status, 404);
    assert.deepEqual(await published('result-events'), []);
  });

  it('staff without the clinician grant are refused (403); a missing reason or a bad id is 400 naming the field', async () => {
    const report = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'HIV', status: 'final', releaseState: 'held', observations: [hiv] });
    for (const tok of [staffToken(), resultStaffToken(['phi'])]) assert.equal((await send({ reportId: report.id, reason: 'ok' }, tok)).status, 403);
    const noReason = await send({ reportId: report.id });
    assert.deepEqual([noReason.status, noReason.body['invalid-params'][0].name], [400, 'body/reason']);
    const blank = await send({ reportId: report.id, reason: '   ' });
    assert.deepEqual([blank.status, blank.body['invalid-params'][0].name], [400, 'body/reason']);
    const badId = await send({ reportId: 'report-1', reason: 'ok' });
    assert.deepEqual([badId.status, badId.body['invalid-params'][0].name], [400, 'body/reportId']);
    assert.equal((await db().diagnosticReport.findUniqueOrThrow({ where: { id: report.id } })).releaseState, 'held');
  });
});
