import { strict as assert } from 'node:assert';
import { ageAt, recommend, type History, type Offer, type Profile, type Rule, type RuleSet } from './recommend';
import { parseRecommendationRules, recommendationRules } from './recommendation-rules';

const NOW = new Date('2026-12-07T03:00:00Z');
const monthsAgo = (n: number) => new Date(Date.UTC(2026, 11 - n, 7, 3));
const bornYearsAgo = (years: number) => new Date(Date.UTC(2026 - years, 5, 1));

const rationale = (en: string) => ({ vi: `vi: ${en}`, en });
const rules = (...list: Rule[]): RuleSet => ({ version: 'test-1', maxPackages: 5, rules: list });
const offers: Offer[] = [
  { code: 'DIABETES', minAge: 18 }, { code: 'LIPID', minAge: 18 }, { code: 'GENERAL' },
  { code: 'PROSTATE', sex: 'male', minAge: 50 }, { code: 'PAP', sex: 'female', minAge: 21, maxAge: 65 },
];
const man52: Profile = { sex: 'male', birthDate: bornYearsAgo(52), language: 'en' };
const none: History = { results: [], packagesDone: {} };
const hba1c = (value: number, at = monthsAgo(2), unit = '%') => ({ loinc: '4548-4', value, unit, low: 4, high: 5.6, at });
const codes = (list: { packageCode: string }[]) => list.map((r) => r.packageCode);

const hba1cHigh: Rule = { id: 'hba1c-high', package: 'DIABETES', weight: 60, when: { result: { loinc: ['4548-4'], atLeast: 5.7, unit: '%' } }, rationale: rationale('Your last HbA1c was above the normal range.') };
const general: Rule = { id: 'general-yearly', package: 'GENERAL', weight: 15, when: { age: { min: 18 }, due: { package: 'GENERAL', months: 12 } }, rationale: rationale('No general check in 12 months.') };

describe('recommend(): explainable package recommendations', () => {
  it('a result at or above a threshold applies its rule; below it, or in another unit, it does not', () => {
    assert.deepEqual(codes(recommend(rules(hba1cHigh), offers, man52, { results: [hba1c(5.7)], packagesDone: {} }, NOW)), ['DIABETES']);
    assert.deepEqual(recommend(rules(hba1cHigh), offers, man52, { results: [hba1c(5.6)], packagesDone: {} }, NOW), []);
    // 48 mmol/mol is an HbA1c of 6.5 %, but 48 is no percentage: never compared across units.
    assert.deepEqual(recommend(rules(hba1cHigh), offers, man52, { results: [hba1c(48, monthsAgo(1), 'mmol/mol')], packagesDone: {} }, NOW), []);
  });

  it('the latest result decides: an HbA1c back in range no longer recommends the diabetes package', () => {
    const history = { results: [hba1c(6.2, monthsAgo(8)), hba1c(5.4, monthsAgo(1))], packagesDone: {} };
    assert.deepEqual(recommend(rules(hba1cHigh), offers, man52, history, NOW), []);
  });

  it('out of range means outside the range the lab reported, or an abnormal flag', () => {
    const ldl: Rule = { id: 'ldl-high', package: 'LIPID', weight: 50, when: { result: { loinc: ['13457-7', '18262-6'], outOfRange: true } }, rationale: rationale('LDL out of range.') };
    const at = monthsAgo(3);
    const over = { loinc: '18262-6', value: 162, unit: 'mg/dL', high: 100, at };
    const flagged = { loinc: '13457-7', value: 95, unit: 'mg/dL', interpretation: ['H'], at };
    const normal = { loinc: '13457-7', value: 95, unit: 'mg/dL', high: 100, interpretation: ['N'], at };
    for (const r of [over, flagged]) assert.deepEqual(codes(recommend(rules(ldl), offers, man52, { results: [r], packagesDone: {} }, NOW)), ['LIPID']);
    assert.deepEqual(recommend(rules(ldl), offers, man52, { results: [normal], packagesDone: {} }, NOW), []);
  });

  it('time since the last check: never checked or checked too long ago applies; a recent check does not', () => {
    const screening: Rule = { id: 'diabetes-screening', package: 'DIABETES', weight: 25, when: { age: { min: 35 }, due: { loinc: ['4548-4', '2345-7'], months: 36 } }, rationale: rationale('Screening due.') };
    assert.equal(recommend(rules(screening), offers, man52, none, NOW).length, 1);
    assert.equal(recommend(rules(screening), offers, man52, { results: [hba1c(5.2, monthsAgo(37))], packagesDone: {} }, NOW).length, 1);
    assert.equal(recommend(rules(screening), offers, man52, { results: [hba1c(5.2, monthsAgo(35))], packagesDone: {} }, NOW).length, 0);
    // A package done counts as its check.
    assert.equal(recommend(rules(general), offers, man52, none, NOW).length, 1);
    assert.equal(recommend(rules(general), offers, man52, { results: [], packagesDone: { GENERAL: monthsAgo(4) } }, NOW).length, 0);
    assert.equal(recommend(rules(general), offers, man52, { results: [], packagesDone: { GENERAL: monthsAgo(13) } }, NOW).length, 1);
  });

  it("age and sex: the rule's and the package's; an unknown birth date or sex matches neither", () => {
    const prostate: Rule = { id: 'prostate', package: 'PROSTATE', weight: 30, when: { sex: 'male', age: { min: 50 } }, rationale: rationale('PSA from 50.') };
    const anyone: Rule = { id: 'prostate-anyone', package: 'PROSTATE', weight: 30, when: {}, rationale: rationale('Everyone.') };
    assert.equal(recommend(rules(prostate), offers, man52, none, NOW).length, 1);
    assert.equal(recommend(rules(prostate), offers, { ...man52, birthDate: bornYearsAgo(49) }, none, NOW).length, 0);
    // A rule that forgets the package is for men over 50 still never reaches a woman or a 40-year-old man.
    assert.equal(recommend(rules(anyone), offers, { ...man52, sex: 'female' }, none, NOW).length, 0);
    assert.equal(recommend(rules(anyone), offers, { ...man52, birthDate: bornYearsAgo(40) }, none, NOW).length, 0);
    assert.equal(recommend(rules(anyone), offers, { language: 'vi' }, none, NOW).length, 0);
    assert.equal(recommend(rules(general), offers, { sex: 'male', language: 'vi' }, none, NOW).length, 0);
  });

  it('only bookable packages: a rule naming a package the catalogue does not offer recommends nothing', () => {
    assert.deepEqual(recommend(rules(hba1cHigh), offers.filter((o) => o.code !== 'DIABETES'), man52, { results: [hba1c(6.1)], packagesDone: {} }, NOW), []);
  });

  it('ranks by the summed weights of the rules that apply, keeps maxPackages, and gives every reason, strongest first', () => {
    const screening: Rule = { id: 'diabetes-screening', package: 'DIABETES', weight: 25, when: { age: { min: 35 } }, rationale: rationale('Screening from 35.') };
    const lipids: Rule = { id: 'lipids-40', package: 'LIPID', weight: 40, when: { age: { min: 40 } }, rationale: rationale('Lipids from 40.') };
    const out = recommend(rules(general, screening, lipids, hba1cHigh), offers, man52, { results: [hba1c(6.1)], packagesDone: {} }, NOW);
    assert.deepEqual(out.map((r) => [r.rank, r.packageCode, r.score]), [[1, 'DIABETES', 85], [2, 'LIPID', 40], [3, 'GENERAL', 15]]);
    assert.deepEqual(out[0].reasons, [
      { ruleId: 'hba1c-high', reason: 'Your last HbA1c was above the normal range.' },
      { ruleId: 'diabetes-screening', reason: 'Screening from 35.' },
    ]);
    const two = recommend({ ...rules(general, screening, lipids, hba1cHigh), maxPackages: 2 }, offers, man52, { results: [hba1c(6.1)], packagesDone: {} }, NOW);
    assert.deepEqual(codes(two), ['DIABETES', 'LIPID']);
  });

  it("reasons are in the patient's language", () => {
    const [vi] = recommend(rules(general), offers, { ...man52, language: 'vi' }, none, NOW);
    assert.equal(vi.reasons[0].reason, 'vi: No general check in 12 months.');
  });

  it('age in whole years: the birthday itself counts', () => {
    assert.equal(ageAt(new Date('1974-12-07'), NOW), 52);
    assert.equal(ageAt(new Date('1974-12-08'), NOW), 51);
  });
});

describe('the recommendation rules ConfigMap', () => {
  it('the shipped rules hold together, and a 52-year-old man with a high HbA1c gets the diabetes package first', () => {
    const shipped = recommendationRules();
    assert.ok(shipped.version && shipped.rules.length >= 5);
    const [first] = recommend(shipped, offers, man52, { results: [hba1c(6.1)], packagesDone: {} }, NOW);
    assert.equal(first.packageCode, 'DIABETES');
    assert.equal(first.reasons[0].ruleId, 'diabetes-hba1c-high');
  });

  it('refuses rules that do not hold together, naming the field', () => {
    const doc = (rule: string) => `version: "1"\nmaxPackages: 3\nrules:\n  - ${rule}`;
    assert.throws(() => parseRecommendationRules(doc('{id: a, package: P, weight: 1, when: {result: {loinc: ["4548-4"]}}, rationale: {vi: x, en: y}}'), 't.yaml'), /policy\/rules\.0\.when\.result/);
    assert.throws(() => parseRecommendationRules(doc('{id: a, package: P, weight: 1, when: {}, rationale: {vi: x}}'), 't.yaml'), /policy\/rules\.0\.rationale\.en is required/);
    assert.throws(() => parseRecommendationRules(doc('{id: a, package: P, weight: 1, when: {age: {min: 60, max: 40}}, rationale: {vi: x, en: y}}'), 't.yaml'), /rules\.0\.when\.age max is below min/);
    const twice = `version: "1"\nmaxPackages: 3\nrules:\n  - {id: a, package: P, weight: 1, when: {}, rationale: {vi: x, en: y}}\n  - {id: a, package: Q, weight: 1, when: {}, rationale: {vi: x, en: y}}`;
    assert.throws(() => parseRecommendationRules(twice, 't.yaml'), /rules\.1\.id a is used twice/);
  });
});
