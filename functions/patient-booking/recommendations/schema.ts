// What GET /api/recommendations accepts and answers (JSON Schemas: validation, types and /openapi.json come from these).
import { packageView } from '../packages/schema';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Whose recommendations (staff and services must give it; a patient may give only their own). */
    patientId: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

const reason = {
  type: 'object', additionalProperties: false, required: ['ruleId', 'reason'],
  properties: {
    /** The rule of knative/base/patient-booking/recommendation-rules.yaml that chose the package. */
    ruleId: { type: 'string' },
    /** The rule's rationale in the patient's language. */
    reason: { type: 'string' },
  },
} as const;

export const recommendation = {
  type: 'object',
  additionalProperties: false,
  required: ['rank', 'score', 'reasons', 'package'],
  properties: {
    rank: { type: 'integer', minimum: 1 },
    /** The summed weights of the rules that chose it. */
    score: { type: 'number' },
    /** Why, strongest reason first. */
    reasons: { type: 'array', minItems: 1, items: reason },
    package: packageView,
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['patientId', 'rulesVersion', 'computedAt', 'recommendations'],
  properties: {
    patientId: { type: 'string' },
    rulesVersion: { type: 'string' },
    computedAt: { type: 'string', format: 'date-time' },
    recommendations: { type: 'array', items: recommendation },
  },
} as const;
