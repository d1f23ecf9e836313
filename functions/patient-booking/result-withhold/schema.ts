// What result-withhold accepts and answers: a clinician decides the patient does not read a report here.
import { decision, reason, uuid } from '../result-schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'reason'],
  properties: { reportId: uuid, reason },
} as const;

export const view = decision;
