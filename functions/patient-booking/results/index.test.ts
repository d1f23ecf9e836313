import { strict as assert } from 'node:assert';
import * as results from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 2));
const obs = (code: string, value: number, flags: string[] = []) => ({ code, value, unit: 'g/L', flags });

describe('results (GET /api/results)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(results); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const list = (query: Record<string, string>, tok = patientToken('p-1')) => call(fn.url, { token: tok, query });

  it('a patient lists their released reports newest first, with counts of results and abnormal ones, and no values', async () => {
    const older = await seedReport({ patientId: 'p-1', accession: 'A-1', code: 'CBC', display: 'Blood count', status: 'final', releaseState: 'released', createdAt: day(1), effectiveAt: day(1), observations: [obs('HGB', 150), obs('WBC', 12, ['H']), obs('PLT', 90, ['LL'])] });
    const newer = await seedReport({ patientId: 'p-1', accession: 'A-2', code: 'LIPID', status: 'final', releaseState: 'released', createdAt: day(5), effectiveAt: day(5), observations: [obs('CHOL', 5, ['N'])] });
    // A released report whose amendment waits for a clinician shows the released version.
    const amended = await seedReport({ patientId: 'p-1', accession: 'A-3', code: 'CHEM', status: 'amended', releaseState: 'held', version: 2, releasedVersions: [1], createdAt: day(3), earlier: { 1: [obs('GLU', 9, ['H'])] }, observations: [obs('GLU', 5), obs('NA', 140)] });
    await seedReport({ patientId: 'p-1', accession: 'A-4', code: 'HIV', status: 'final', releaseState: 'held', createdAt: day(6), observations: [obs('HIV', 0)] });
    await seedReport({ patientId: 'p-1', accession: 'A-5', code: 'BRCA', status: 'final', releaseState: 'withheld', createdAt: day(7), observations: [obs('B', 0)] });
    await seedReport({ patientId: 'p-1', accession: 'A-6', code: 'CBC', status: 'final', releaseState: 'released', detached: true, createdAt: day(8), observations: [obs('HGB', 1)] });
    await seedReport({ patientId: 'p-2', accession: 'B-1', code: 'CBC', status: 'final', releaseState: 'released', createdAt: day(9), observations: [obs('HGB', 1)] });

    const res = await list({});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.results.map((r: { reportId: string }) => r.reportId), [newer.id, amended.id, older.id]);
    const [, chem, cbc] = res.body.results;
    assert.deepEqual([cbc.observationCount, cbc.abnormalCount, cbc.status, cbc.code.text, cbc.effectiveAt], [3, 2, 'final', 'Blood count', day(1).toISOString()]);
    assert.deepEqual([chem.version, chem.status, chem.observationCount, chem.abnormalCount], [1, 'final', 1, 1]);
    assert.equal(cbc.releaseState, undefined, 'the release workings are for staff');
    assert.ok(!JSON.stringify(res.body).includes('150'), 'no values in the list');
    assert.equal(await db().resultAudit.count({ where: { action: 'viewed' } }), 0, 'a patient\'s own list is not audited (no values in it)');
  });

  it('pages newest first with a cursor', async () => {
    for (let i = 1; i <= 5; i++) await seedReport({ patientId: 'p-1', accession: `A-${i}`, code: 'CBC', status: 'final', releaseState: 'released', createdAt: day(i), observations: [obs('HGB', 140)] });
    const first = await list({ limit: '3' });
    const second = await list({ limit: '3', cursor: first.body.nextCursor });
    const accessions = [...first.body.results, ...second.body.results].map((r: { accession: string }) => r.accession);
    assert.deepEqual(accessions, ['A-5', 'A-4', 'A-3', 'A-2', 'A-1']);
    assert.equal(second.body.nextCursor, null);
    const bad = await list({ cursor: 'bm90LWEtY3Vyc29y' });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'query/cursor']);
  });

  it('staff with phi name the patient and see every report with where it stands; each report listed is audited as their read', async () => {
    const released = await seedReport({ patientId: 'p-1', accession: 'A-1', code: 'CBC', status: 'final', releaseState: 'released', createdAt: day(1), observations: [obs('HGB', 140)] });
    const held = await seedReport({ patientId: 'p-1', accession: 'A-2', code: 'K', status: 'final', releaseState: 'held', holdReason: 'critical', critical: true, createdAt: day(2), observations: [obs('K', 7, ['HH'])] });
    const res = await list({ patientId: 'p-1' }, resultStaffToken(['phi'], 'dr-lan'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.results.map((r: { reportId: string; releaseState: string; critical: boolean }) => [r.reportId, r.releaseState, r.critical]), [[held.id, 'held', true], [released.id, 'released', false]]);
    const audits = await db().resultAudit.findMany({ where: { action: 'viewed' }, orderBy: { reportId: 'asc' } });
    assert.deepEqual(audits.map((a) => [a.reportId, a.actor, a.reason]).sort(), [[held.id, 'staff:dr-lan', 'list'], [released.id, 'staff:dr-lan', 'list']].sort());
    const service = await list({ patientId: 'p-1' }, token('service', 'reports-pdf'));
    assert.deepEqual(service.body.results.map((r: { reportId: string }) => r.reportId), [released.id], 'a service reads what the patient reads');
  });

  it('staff without phi are refused; staff must name the patient; a patient cannot name another', async () => {
    assert.equal((await list({ patientId: 'p-1' }, staffToken())).status, 403);
    const unnamed = await list({}, resultStaffToken());
    assert.deepEqual([unnamed.status, unnamed.body['invalid-params'][0].name], [400, 'query/patientId']);
    const other = await list({ patientId: 'p-2' });
    assert.deepEqual([other.status, other.body['invalid-params'][0].name], [403, 'query/patientId']);
  });
});
