// What result-release accepts and answers: a clinician releases a held report, saying why.
import { decision, reason, uuid } from '../result-schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'reason'],
  properties: { reportId: uuid, reason },
} as const;

export const view = decision;
