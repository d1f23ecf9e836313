// What result-call accepts and answers: a clinician records that the patient was called about a critical value.
import { decision, uuid } from '../result-schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId'],
  properties: {
    reportId: uuid,
    /** What was agreed on the call (kept in the audit trail, which staff with phi read). */
    note: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' },
  },
} as const;

export const view = decision;
