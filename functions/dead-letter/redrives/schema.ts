// What dead-letter-redrives accepts and answers (JSON Schemas: validation, types and /openapi.json come from these).
import { task } from '../redrive/schema';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** One task with its progress; without it, the newest tasks. */
    taskId: { type: 'string', format: 'uuid' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Newest first (without taskId). */
    tasks: { type: 'array', items: task },
    /** The task asked for (taskId). */
    task,
    /** Its skipped letters and why, in sending order (the first 200; with taskId). */
    skippedLetters: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['letterId', 'reason'],
        properties: { letterId: { type: 'string', format: 'uuid' }, reason: { type: ['string', 'null'] } },
      },
    },
  },
} as const;
