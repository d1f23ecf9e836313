// What dead-letter-redrive-cancel accepts and answers (JSON Schemas: validation, types and /openapi.json come from these).
import { started } from '../redrive/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['taskId'],
  properties: {
    taskId: { type: 'string', format: 'uuid' },
  },
} as const;

export const view = started;
