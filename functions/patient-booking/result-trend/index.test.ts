import { strict as assert } from 'node:assert';
import * as trend from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

const visit = (n: number) => new Date(Date.UTC(2026, n, 1, 2));
const glucose = (value: number, unit: string, flags: string[] = []) => ({ code: 'GLU', loinc: '2345-7', value, unit, flags });

describe('result-trend (GET /api/results/trend)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(trend); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const ask = (query: Record<string, string>, tok = patientToken('p-1')) => call(fn.url, { token: tok, query });

  async function threeVisitsAndAHeldFourth() {
    const reports = [];
    // Visit 3 came back in mg/dL: shown as reported, not converted.
    for (const [n, value, unit, flags] of [[1, 5.1, 'mmol/L', ['N']], [2, 7.4, 'mmol/L', ['H']], [3, 99, 'mg/dL', ['N']]] as const) {
      reports.push(await seedReport({ patientId: 'p-1', accession: `A-${n}`, code: 'CHEM', status: 'final', releaseState: 'released', effectiveAt: visit(n), observations: [glucose(value, unit, [...flags]), { code: 'NA', loinc: '2951-2', value: 140, unit: 'mmol/L' }] }));
    }
    const held = await seedReport({ patientId: 'p-1', accession: 'A-4', code: 'CHEM', status: 'final', releaseState: 'held', effectiveAt: visit(4), observations: [glucose(12, 'mmol/L', ['HH'])] });
    await seedReport({ patientId: 'p-2', accession: 'B-1', code: 'CHEM', status: 'final', releaseState: 'released', effectiveAt: visit(2), observations: [glucose(4, 'mmol/L')] });
    return { reports, held };
  }

  it('a patient sees one LOINC code across three visits, oldest first, with a unit change shown as is and said so; nothing held', async () => {
    const { reports } = await threeVisitsAndAHeldFourth();
    const res = await ask({ loinc: '2345-7' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.points.map((p: { at: string; value: number; unit: string; interpretation: string[]; reportId: string }) => [p.at, p.value, p.unit, p.interpretation, p.reportId]), [
      [visit(1).toISOString(), 5.1, 'mmol/L', ['N'], reports[0].id],
      [visit(2).toISOString(), 7.4, 'mmol/L', ['H'], reports[1].id],
      [visit(3).toISOString(), 99, 'mg/dL', ['N'], reports[2].id],
    ]);
    assert.deepEqual(res.body.points.map((p: { unitChanged?: boolean }) => p.unitChanged ?? false), [false, false, true]);
    assert.deepEqual([res.body.units, res.body.unitsDiffer], [['mmol/L', 'mg/dL'], true]);
    assert.equal(res.body.points[1].abnormal, true);
    const audits = await db().resultAudit.findMany({ where: { action: 'viewed' } });
    assert.deepEqual(audits.map((a) => a.actor + ' ' + a.reason), Array(3).fill('patient:p-1 trend 2345-7'));
  });

  it('staff with phi see the held point too, their read audited per report', async () => {
    const { held } = await threeVisitsAndAHeldFourth();
    const res = await ask({ loinc: '2345-7', patientId: 'p-1' }, resultStaffToken(['phi'], 'dr-lan'));
    assert.equal(res.body.points.length, 4);
    assert.equal(res.body.points[3].reportId, held.id);
    assert.equal(await db().resultAudit.count({ where: { action: 'viewed', actor: 'staff:dr-lan' } }), 4);
  });

  it('no result of the code is an empty trend; a code that is not LOINC is 400 naming query/loinc; staff without phi 403', async () => {
    const none = await ask({ loinc: '718-7' });
    assert.deepEqual([none.status, none.body.points, none.body.unitsDiffer], [200, [], false]);
    const bad = await ask({ loinc: 'glucose' });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'query/loinc']);
    assert.equal((await ask({ loinc: '2345-7', patientId: 'p-1' }, staffToken())).status, 403);
  });
});
