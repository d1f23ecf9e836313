import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { recommendationRules } from '../recommendation-rules';
import { startFunction, call, resetDatabase, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';
import { releasedResult, seedTestCatalogue } from '../../../test/support/catalogue';

const yearsAgo = (n: number) => new Date(Date.UTC(new Date().getUTCFullYear() - n, 0, 1));
const monthsAgo = (n: number) => new Date(Date.now() - n * 30.5 * 86_400_000);

describe('recommendations (GET /api/recommendations)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(async () => {
    await resetDatabase();
    await seedTestCatalogue();
    // A 52-year-old man whose HbA1c two months ago was 6.1 % (range 4–5.6), reading the portal in English.
    await db().patient.create({ data: { patientId: 'patient-1', sex: 'male', birthDate: yearsAgo(52), language: 'en', crmVersion: 1 } });
    await releasedResult('patient-1', 'HBA1C', 6.1, monthsAgo(2));
  });

  const ask = (tok = patientToken('patient-1'), query?: Record<string, string>) => call(running.url, { token: tok, query });
  const codes = (res: { body: { recommendations: Array<{ package: { code: string } }> } }) => res.body.recommendations.map((r) => r.package.code);

  it('a 52-year-old man with an HbA1c above range gets the diabetes package first, with why, its tests and price', async () => {
    const res = await ask();
    assert.equal(res.status, 200);
    assert.equal(res.body.rulesVersion, recommendationRules().version);
    const [first] = res.body.recommendations;
    assert.equal(first.rank, 1);
    assert.equal(first.package.code, 'DIABETES');
    assert.deepEqual(first.reasons, [{ ruleId: 'diabetes-hba1c-high', reason: 'Your last HbA1c was above the normal range: a follow-up check of your blood sugar is recommended.' }]);
    assert.deepEqual([first.package.name, first.package.priceVnd, first.package.serviceId, first.package.tests.map((t: { loinc: string }) => t.loinc)], ['Diabetes screening', 170_000, 'blood-draw', ['4548-4', '2345-7']]);
    // He is 52 and male: prostate screening is among the rest, each with its reason; ranks follow one another.
    assert.ok(codes(res).includes('PROSTATE'));
    assert.deepEqual(res.body.recommendations.map((r: { rank: number }) => r.rank), codes(res).map((_c, i) => i + 1));
    for (const r of res.body.recommendations) assert.ok(r.reasons.length >= 1 && r.reasons.every((x: { reason: string }) => x.reason.length > 0));
    // The reasons quote no value.
    assert.ok(!JSON.stringify(res.body.recommendations.map((r: { reasons: unknown }) => r.reasons)).includes('6.1'));
  });

  it('a withdrawn package is never recommended, even when it was stored before the withdrawal', async () => {
    assert.equal(codes(await ask())[0], 'DIABETES');
    await db().cataloguePackage.update({ where: { code: 'DIABETES' }, data: { withdrawnAt: new Date(), version: 2 } });
    const res = await ask();
    assert.ok(!codes(res).includes('DIABETES'));
    assert.equal(res.body.recommendations[0].rank, 1);
    assert.ok(!(await db().recommendation.findMany({ where: { patientId: 'patient-1' } })).some((r) => r.packageCode === 'DIABETES'));
  });

  it('stored recommendations are answered while current, and recomputed when the rules version changed', async () => {
    const first = await ask();
    assert.equal((await ask()).body.computedAt, first.body.computedAt);
    await db().recommendation.updateMany({ where: { patientId: 'patient-1' }, data: { rulesVersion: 'an-older-version' } });
    const again = await ask();
    assert.equal(again.body.rulesVersion, recommendationRules().version);
    assert.ok(again.body.computedAt > first.body.computedAt);
    assert.deepEqual(new Set((await db().recommendation.findMany({ where: { patientId: 'patient-1' } })).map((r) => r.rulesVersion)), new Set([recommendationRules().version]));
  });

  it("a changed profile is recomputed: in the patient's new language, for their sex", async () => {
    await ask();
    await db().patient.update({ where: { patientId: 'patient-1' }, data: { language: 'vi', sex: 'female', crmVersion: 2 } });
    const res = await ask();
    assert.ok(!codes(res).includes('PROSTATE'));
    assert.match(res.body.recommendations[0].reasons[0].reason, /HbA1c gần nhất/);
  });

  it('patients see their own; staff and services name the patient; unknown or erased patients are not found', async () => {
    assert.equal((await ask(patientToken('patient-1'), { patientId: 'patient-2' })).status, 403);
    const staffWithout = await ask(staffToken());
    assert.equal(staffWithout.status, 400);
    assert.equal(staffWithout.body['invalid-params'][0].name, 'query/patientId');
    assert.equal(codes(await ask(staffToken(), { patientId: 'patient-1' }))[0], 'DIABETES');
    assert.equal(codes(await ask(token('service', 'portal-bff'), { patientId: 'patient-1' }))[0], 'DIABETES');
    assert.equal((await ask(staffToken(), { patientId: 'nobody' })).status, 404);
    await db().patient.update({ where: { patientId: 'patient-1' }, data: { erasedAt: new Date(), sex: null, birthDate: null } });
    const erased = await ask();
    assert.equal(erased.status, 404);
    assert.equal(erased.body['invalid-params'], undefined, 'the patient gave no field that was wrong');
    assert.equal((await ask(staffToken(), { patientId: 'patient-1' })).body['invalid-params'][0].name, 'query/patientId');
  });

  it('a signed-in patient the CRM has not synced yet gets what fits anyone (no age or sex rule, no restricted package)', async () => {
    const res = await ask(patientToken('patient-new'));
    assert.equal(res.status, 200);
    assert.deepEqual(codes(res), []);
  });
});
