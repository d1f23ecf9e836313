import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as detail from './index';
import { db } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { releaseReport } from '../release';
import { system } from '../system';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';
import { seedReport, resultStaffToken } from '../../../test/support/reports';

const glucose = (value: number, flags: string[] = [], unit = 'mmol/L') => ({ code: 'GLU', loinc: '2345-7', display: 'Glucose', value, unit, low: 3.9, high: 5.5, flags });
const potassium = (value: number, flags: string[] = []) => ({ code: 'K', loinc: '2823-3', display: 'Potassium', value, unit: 'mmol/L', low: 3.5, high: 5.1, flags });

describe('result-detail (GET /api/results/detail)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(detail); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const read = (reportId: string, tok = patientToken('p-1')) => call(fn.url, { token: tok, query: { reportId } });
  const views = (reportId: string) => db().resultAudit.findMany({ where: { reportId, action: 'viewed' }, orderBy: { id: 'asc' } });

  it('a patient reads their released report FHIR-shaped: values, units, ranges, flags, statuses; the read is audited', async () => {
    const report = await seedReport({
      patientId: 'p-1', accession: 'ACC-1', code: 'CHEM', loinc: '24323-8', display: 'Metabolic panel', status: 'final', releaseState: 'released',
      observations: [glucose(7.2, ['H']), { code: 'HBA', display: 'HBsAg', value: 'negative', flags: ['N'] }, { code: 'CRP', loinc: '1988-5', value: 0.1, valueText: '<0.1', unit: 'mg/L', high: 5 }],
    });
    const res = await read(report.id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { report: r, observations: [glu, hbs, crp], release, changes } = res.body;
    assert.deepEqual([r.resourceType, r.id, r.status, r.meta.versionId, r.subject.reference, r.identifier[0].value, r.code.text], ['DiagnosticReport', report.id, 'final', '1', 'Patient/p-1', 'ACC-1', 'Metabolic panel']);
    assert.deepEqual(r.code.coding[0], { system: 'http://loinc.org', code: '24323-8' });
    assert.deepEqual(glu.valueQuantity, { value: 7.2, unit: 'mmol/L' });
    assert.deepEqual(glu.referenceRange, [{ low: { value: 3.9, unit: 'mmol/L' }, high: { value: 5.5, unit: 'mmol/L' } }]);
    assert.deepEqual([glu.interpretation[0].coding[0].code, glu.abnormal, glu.status], ['H', true, 'final']);
    assert.deepEqual([hbs.valueString, hbs.abnormal, hbs.referenceRange], ['negative', false, []]);
    assert.deepEqual(crp.valueQuantity, { value: 0.1, unit: 'mg/L', comparator: '<' });
    assert.equal(changes, null);
    assert.deepEqual(Object.keys(release), ['releasedAt'], 'a patient sees when it was released, not the clinicians\' workings');
    const [view] = await views(report.id);
    assert.deepEqual([view.actor, view.reason, view.version], ['patient:p-1', 'detail', 1]);
  });

  it('another patient\'s report, a held one, a withheld one, a detached one and an unknown id all answer 404 alike', async () => {
    const other = await seedReport({ patientId: 'p-2', accession: 'ACC-2', code: 'CBC', status: 'final', releaseState: 'released', observations: [glucose(5)] });
    const held = await seedReport({ patientId: 'p-1', accession: 'ACC-3', code: 'HIV', status: 'final', releaseState: 'held', holdReason: 'sensitive', observations: [{ code: 'HIV', value: 'non-reactive' }] });
    const withheld = await seedReport({ patientId: 'p-1', accession: 'ACC-4', code: 'BRCA', status: 'final', releaseState: 'withheld', observations: [{ code: 'BRCA1', value: 'variant' }] });
    const detached = await seedReport({ patientId: 'p-1', accession: 'ACC-5', code: 'CBC', status: 'final', releaseState: 'released', detached: true, observations: [glucose(5)] });
    for (const id of [other.id, held.id, withheld.id, detached.id, randomUUID()]) {
      const res = await read(id);
      assert.deepEqual([res.status, res.body['invalid-params']?.[0]?.name], [404, 'query/reportId'], id);
    }
    assert.equal(await db().resultAudit.count({ where: { action: 'viewed' } }), 0, 'a refused read is not a read');
  });

  it('a newer amended version held for a clinician stays invisible until released; then the patient reads it with what changed', async () => {
    const report = await seedReport({
      patientId: 'p-1', accession: 'ACC-1', code: 'CHEM', status: 'amended', releaseState: 'held', holdReason: 'sensitive', version: 2, releasedVersions: [1],
      earlier: { 1: [glucose(7.2, ['H']), potassium(4.0), { code: 'NA', value: 140, unit: 'mmol/L' }] },
      observations: [glucose(5.2, ['N']), potassium(4.0), { code: 'CL', value: 101, unit: 'mmol/L' }],
    });
    const before = await read(report.id);
    assert.equal(before.status, 200);
    assert.deepEqual([before.body.report.meta.versionId, before.body.report.status, before.body.observations[0].valueQuantity.value, before.body.changes], ['1', 'final', 7.2, null]);

    await transaction(system, '/test/release', (tx, emit) => releaseReport(tx, emit, report.id, { actor: 'staff:dr-lan', reason: 'reviewed', at: new Date() }));
    const after = await read(report.id);
    assert.deepEqual([after.body.report.meta.versionId, after.body.report.status, after.body.observations[0].valueQuantity.value], ['2', 'amended', 5.2]);
    const { fromVersion, toVersion, observations } = after.body.changes;
    assert.deepEqual([fromVersion, toVersion], [1, 2]);
    const byCode = Object.fromEntries(observations.map((c: { code: { coding: Array<{ code: string }> }; change: string }) => [c.code.coding.at(-1)!.code, c]));
    assert.deepEqual(Object.keys(byCode).sort(), ['CL', 'GLU', 'NA'], 'potassium did not change, so it is not listed');
    assert.deepEqual([byCode.GLU.change, byCode.GLU.fields, byCode.GLU.before.value, byCode.GLU.after.value, byCode.GLU.before.interpretation, byCode.GLU.after.interpretation], ['changed', ['value', 'interpretation'], 7.2, 5.2, ['H'], ['N']]);
    assert.deepEqual([byCode.CL.change, byCode.CL.after.value, byCode.NA.change, byCode.NA.before.value], ['added', 101, 'removed', 140]);
  });

  it('staff holding phi read the newest version even while held, with where its release stands; their read is audited', async () => {
    const report = await seedReport({
      patientId: 'p-1', accession: 'ACC-1', code: 'CHEM', status: 'corrected', releaseState: 'held', holdReason: 'critical', critical: true, version: 2, releasedVersions: [1],
      earlier: { 1: [potassium(4.0)] }, observations: [potassium(6.9, ['HH'])],
    });
    const res = await read(report.id, resultStaffToken(['phi'], 'dr-lan'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.report.meta.versionId, res.body.report.status, res.body.release.state, res.body.release.releasedVersion, res.body.release.critical, res.body.release.holdReason], ['2', 'corrected', 'held', 1, true, 'critical']);
    assert.deepEqual(res.body.changes.observations[0].fields, ['value', 'interpretation']);
    const [view] = await views(report.id);
    assert.deepEqual([view.actor, view.version, view.patientId], ['staff:dr-lan', 2, 'p-1']);
  });

  it('staff without the phi grant are refused (403); a service reads what the patient reads', async () => {
    const held = await seedReport({ patientId: 'p-1', accession: 'ACC-1', code: 'HIV', status: 'final', releaseState: 'held', observations: [{ code: 'HIV', value: 'non-reactive' }] });
    assert.equal((await read(held.id, staffToken())).status, 403);
    assert.equal((await read(held.id, resultStaffToken(['clinician']))).status, 403);
    assert.equal((await read(held.id, token('service', 'reports-pdf'))).status, 404);
  });

  it('a report id that is not a uuid is 400 naming query/reportId', async () => {
    const res = await read('42');
    assert.deepEqual([res.status, res.body['invalid-params'][0].name], [400, 'query/reportId']);
  });
});
