// The recommendation rules clinicians and operators tune as data: knative/base/patient-booking/
// recommendation-rules.yaml (the recommendation-rules-policy ConfigMap). In a cluster the ConfigMap is mounted
// and PATIENT_BOOKING_RECOMMENDATION_RULES_FILE names the file (/etc/patient-booking/recommendation-rules/policy.yaml in
// production); on a laptop the manifest itself is read. Rules that do not hold together stop the function at
// start-up, naming the field. Each stored recommendation keeps the rules' version, so a new version is
// recomputed when next asked for.
import path from 'node:path';
import { policyFile } from '../shared/policy-file';
import type { JsonSchema } from '../shared/validate';
import type { RuleSet } from './recommend';

const loincs = { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' } } as const;
const text = { type: 'string', minLength: 1, maxLength: 500 } as const;

const schema = {
  type: 'object', additionalProperties: false, required: ['version', 'maxPackages', 'rules'],
  properties: {
    version: { type: 'string', minLength: 1, maxLength: 60 },
    maxPackages: { type: 'integer', minimum: 1, maximum: 20 },
    rules: {
      type: 'array', minItems: 1, maxItems: 500,
      items: {
        type: 'object', additionalProperties: false, required: ['id', 'package', 'weight', 'when', 'rationale'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,59}$' },
          package: { type: 'string', minLength: 1, maxLength: 60 },
          weight: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
          when: {
            type: 'object', additionalProperties: false,
            properties: {
              age: {
                type: 'object', additionalProperties: false, minProperties: 1,
                properties: { min: { type: 'integer', minimum: 0, maximum: 150 }, max: { type: 'integer', minimum: 0, maximum: 150 } },
              },
              sex: { enum: ['female', 'male'] },
              result: {
                type: 'object', additionalProperties: false, required: ['loinc'], minProperties: 2,
                properties: {
                  loinc: loincs, atLeast: { type: 'number' }, atMost: { type: 'number' },
                  outOfRange: { const: true }, unit: { type: 'string', minLength: 1, maxLength: 40 },
                },
              },
              due: {
                type: 'object', additionalProperties: false, required: ['months'], minProperties: 2,
                properties: { loinc: loincs, package: { type: 'string', minLength: 1, maxLength: 60 }, months: { type: 'integer', minimum: 1, maximum: 240 } },
              },
            },
          },
          rationale: { type: 'object', additionalProperties: false, required: ['vi', 'en'], properties: { vi: text, en: text } },
        },
      },
    },
  },
} as const;

/** What the schema cannot say: ids are unique, an age range does not end before it starts. */
function build(doc: unknown): RuleSet {
  const rules = doc as RuleSet;
  const seen = new Set<string>();
  rules.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) throw new Error(`policy.rules.${i}.id ${rule.id} is used twice`);
    seen.add(rule.id);
    const age = rule.when.age;
    if (age?.min !== undefined && age.max !== undefined && age.max < age.min) throw new Error(`policy.rules.${i}.when.age max is below min`);
  });
  return rules;
}

const file = policyFile({
  name: 'recommendation-rules', env: 'PATIENT_BOOKING_RECOMMENDATION_RULES_FILE', mounted: '/etc/patient-booking/recommendation-rules/policy.yaml',
  manifest: path.join(__dirname, '..', '..', 'knative', 'base', 'patient-booking', 'recommendation-rules.yaml'), schema: schema as JsonSchema, build,
});

/** Parses and checks a rules document; errors name the field at fault. */
export const parseRecommendationRules = file.parse;
/** The rules in force: the mounted file (PATIENT_BOOKING_RECOMMENDATION_RULES_FILE), else the repository's manifest. */
export const recommendationRules = file.get;
/** Forget the loaded rules (tests that write their own file). */
export const reloadRecommendationRules = file.reload;
/** Reads the rules now: a function that needs them refuses to start without them, naming what is wrong. */
export const assertRecommendationRules = file.assert;
