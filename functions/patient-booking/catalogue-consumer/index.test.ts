import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { bookablePackages } from '../catalogue';
import { startFunction, deliver, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { PACKAGES, TESTS, deliverCatalogue, testByCode } from '../../../test/support/catalogue';

const TEST_UPSERTED = 'com.medlab.catalogue.test-upserted';
const TEST_WITHDRAWN = 'com.medlab.catalogue.test-withdrawn';
const PACKAGE_UPSERTED = 'com.medlab.catalogue.package-upserted';
const PACKAGE_WITHDRAWN = 'com.medlab.catalogue.package-withdrawn';

describe('catalogue-consumer (test-master-data → the test catalogue)', () => {
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(async () => consumer.close());
  beforeEach(resetDatabase);

  const bookable = async () => (await bookablePackages(db())).map((p) => p.code).sort();

  it('stores the catalogue as sent: tests with LOINC, unit and range; packages with their tests, price and service', async () => {
    await deliverCatalogue(consumer.url);
    const hba1c = await db().catalogueTest.findUniqueOrThrow({ where: { code: 'HBA1C' } });
    assert.deepEqual([hba1c.loinc, hba1c.unit, hba1c.referenceLow, hba1c.referenceHigh, hba1c.priceVnd], ['4548-4', '%', 4, 5.6, 150_000n]);
    const [diabetes] = await bookablePackages(db(), ['DIABETES']);
    assert.deepEqual([diabetes.priceVnd, diabetes.serviceId, diabetes.minAge, diabetes.tests.map((t) => t.loinc)], [170_000, 'blood-draw', 18, ['4548-4', '2345-7']]);
    assert.deepEqual(await bookable(), ['DIABETES', 'GENERAL', 'LIPID', 'PROSTATE']);
  });

  it('versions out of order: an older or equal version changes nothing, a newer one wins', async () => {
    const v1 = testByCode('HBA1C');
    const v3 = { ...v1, version: 3, name: 'HbA1c (IFCC)', priceVnd: 180_000 };
    const v2 = { ...v1, version: 2, name: 'HbA1c v2', priceVnd: 1 };
    for (const data of [v1, v3, v2]) assert.equal((await deliver(consumer.url, { type: TEST_UPSERTED, data })).status, 200);
    const again = await deliver(consumer.url, { type: TEST_UPSERTED, data: { ...v3, name: 'same version, other name' } });
    assert.deepEqual(again.body.result, { code: 'HBA1C', version: 3, applied: false });
    const stored = await db().catalogueTest.findUniqueOrThrow({ where: { code: 'HBA1C' } });
    assert.deepEqual([stored.name, stored.priceVnd, stored.version], ['HbA1c (IFCC)', 180_000n, 3n]);
  });

  it('a withdrawn package stops being bookable and keeps its row; a higher version offers it again, an older one does not', async () => {
    await deliverCatalogue(consumer.url);
    const lipid = PACKAGES.find((p) => p.code === 'LIPID')!;
    await deliver(consumer.url, { type: PACKAGE_WITHDRAWN, data: { code: 'LIPID', version: 2, withdrawnAt: '2026-12-01T00:00:00Z' } });
    assert.deepEqual(await bookable(), ['DIABETES', 'GENERAL', 'PROSTATE']);
    assert.equal((await db().cataloguePackage.findUniqueOrThrow({ where: { code: 'LIPID' } })).withdrawnAt?.toISOString(), '2026-12-01T00:00:00.000Z');
    // The version-1 offer redelivered late does not undo the withdrawal.
    const late = await deliver(consumer.url, { type: PACKAGE_UPSERTED, data: lipid });
    assert.equal(late.body.result.applied, false);
    assert.deepEqual(await bookable(), ['DIABETES', 'GENERAL', 'PROSTATE']);
    await deliver(consumer.url, { type: PACKAGE_UPSERTED, data: { ...lipid, version: 3, priceVnd: 210_000 } });
    assert.deepEqual(await bookable(), ['DIABETES', 'GENERAL', 'LIPID', 'PROSTATE']);
  });

  it('a withdrawn test makes every package holding it unbookable, while its row stays for the results that name it', async () => {
    await deliverCatalogue(consumer.url);
    await deliver(consumer.url, { type: TEST_WITHDRAWN, data: { code: 'GLU', version: 2 } });
    assert.deepEqual(await bookable(), ['LIPID', 'PROSTATE']);
    const glu = await db().catalogueTest.findUniqueOrThrow({ where: { code: 'GLU' } });
    assert.ok(glu.withdrawnAt);
    assert.equal(glu.loinc, '2345-7');
  });

  it('a withdrawal of something never seen is kept, so an older offer arriving after it stays withdrawn', async () => {
    await deliver(consumer.url, { type: PACKAGE_WITHDRAWN, data: { code: 'PROSTATE', version: 5 } });
    for (const data of TESTS) await deliver(consumer.url, { type: TEST_UPSERTED, data });
    const res = await deliver(consumer.url, { type: PACKAGE_UPSERTED, data: PACKAGES.find((p) => p.code === 'PROSTATE')! });
    assert.equal(res.body.result.applied, false);
    assert.deepEqual(await bookablePackages(db(), ['PROSTATE']), []);
  });

  it('a package naming tests not heard of yet is kept and says so; it becomes bookable when they arrive', async () => {
    const res = await deliver(consumer.url, { type: PACKAGE_UPSERTED, data: PACKAGES.find((p) => p.code === 'DIABETES')! });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { code: 'DIABETES', version: 1, applied: true, missingTests: ['HBA1C', 'GLU'] });
    assert.deepEqual(await bookable(), []);
    await deliver(consumer.url, { type: TEST_UPSERTED, data: testByCode('HBA1C') });
    await deliver(consumer.url, { type: TEST_UPSERTED, data: testByCode('GLU') });
    assert.deepEqual(await bookable(), ['DIABETES']);
  });

  it('refuses a package without its tests with a 400 naming the field (dead-lettered, never retried)', async () => {
    const res = await deliver(consumer.url, { type: PACKAGE_UPSERTED, data: { ...PACKAGES[0], testCodes: [] } });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'data/testCodes');
  });
});
