import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, patientToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedTestCatalogue } from '../../../test/support/catalogue';

describe('packages (GET /api/packages)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(async () => { await resetDatabase(); await seedTestCatalogue(); });

  const codes = (res: { body: { packages: Array<{ code: string }> } }) => res.body.packages.map((p) => p.code);

  it('lists the bookable packages by name, each with its tests, price and service, to anyone', async () => {
    const res = await call(running.url);
    assert.equal(res.status, 200);
    assert.deepEqual(codes(res), ['DIABETES', 'GENERAL', 'LIPID', 'PROSTATE']);
    const diabetes = res.body.packages[0];
    assert.deepEqual([diabetes.name, diabetes.priceVnd, diabetes.serviceId, diabetes.minAge], ['Diabetes screening', 170_000, 'blood-draw', 18]);
    assert.deepEqual(diabetes.tests[0], { code: 'HBA1C', loinc: '4548-4', name: 'Hemoglobin A1c', unit: '%', referenceRange: { low: 4, high: 5.6 } });
    // A signed-in patient sees the same catalogue.
    assert.deepEqual(codes(await call(running.url, { token: patientToken() })), codes(res));
  });

  it('never lists a withdrawn package, nor one holding a withdrawn test', async () => {
    await db().cataloguePackage.update({ where: { code: 'PROSTATE' }, data: { withdrawnAt: new Date(), version: 2 } });
    await db().catalogueTest.update({ where: { code: 'TG' }, data: { withdrawnAt: new Date(), version: 2 } });
    assert.deepEqual(codes(await call(running.url)), ['DIABETES', 'GENERAL']);
  });

  it('filters by a test (its code or LOINC), and by who may book (sex, age)', async () => {
    assert.deepEqual(codes(await call(running.url, { query: { test: '2345-7' } })), ['DIABETES', 'GENERAL']);
    assert.deepEqual(codes(await call(running.url, { query: { test: 'PSA' } })), ['PROSTATE']);
    assert.deepEqual(codes(await call(running.url, { query: { sex: 'female' } })), ['DIABETES', 'GENERAL', 'LIPID']);
    assert.deepEqual(codes(await call(running.url, { query: { sex: 'male', age: '16' } })), ['GENERAL']);
  });

  it('names a bad filter in a problem+json 400', async () => {
    const res = await call(running.url, { query: { age: 'old' } });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'query/age');
  });
});
