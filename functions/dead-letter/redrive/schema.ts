// What dead-letter-redrive accepts and answers, and the redrive task every redrive route shows (JSON Schemas:
// validation, types and /openapi.json come from these).
import { MAX_RATE, DEFAULT_RATE } from '../redrive-task';

const uuid = { type: 'string', format: 'uuid' } as const;
const count = { type: 'integer', minimum: 0 } as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** These letters (each must exist); or a whole group. */
    letterIds: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: uuid },
    /** A group of alike failures (the letters' fingerprint). */
    group: { type: 'string', minLength: 1, maxLength: 64 },
    /** Only say what would be sent where, and warn where order would suffer. */
    dryRun: { type: 'boolean', default: false },
    /** Records a second at most (SQS redrives at most 500). */
    ratePerSecond: { type: 'integer', minimum: 1, maximum: MAX_RATE, default: DEFAULT_RATE },
  },
} as const;

export const task = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status', 'selection', 'ratePerSecond', 'total', 'sent', 'skipped', 'createdBy', 'createdAt', 'updatedAt', 'finishedAt', 'error'],
  properties: {
    id: uuid,
    status: { enum: ['running', 'completed', 'cancelled', 'failed'] },
    /** What was asked for, as the API received it. */
    selection: {
      type: 'object',
      properties: { letterIds: { type: 'array', items: uuid }, group: { type: 'string' } },
    },
    ratePerSecond: { type: 'integer' },
    /** Letters taken into the task; sent + skipped of them so far (the rest are pending). */
    total: count,
    sent: count,
    skipped: count,
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    /** The last send that failed (the task carries on at the next runner), or who cancelled it. */
    error: { type: ['string', 'null'] },
  },
} as const;

export const started = {
  type: 'object',
  additionalProperties: false,
  required: ['task'],
  properties: { task },
} as const;

export const plan = {
  type: 'object',
  additionalProperties: false,
  required: ['dryRun', 'total', 'topics', 'letters', 'warnings'],
  properties: {
    dryRun: { const: true },
    /** Letters the redrive would take (skipped ones included). */
    total: count,
    /** Records each topic would get. */
    topics: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['topic', 'count'], properties: { topic: { type: 'string' }, count } },
    },
    /** Every letter in sending order. */
    letters: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['letterId', 'topic', 'key', 'partition'],
        properties: {
          letterId: uuid,
          topic: { type: ['string', 'null'] },
          key: { type: ['string', 'null'] },
          partition: { type: ['integer', 'null'] },
          /**
           * Newer events of the key already went through after it on its partition; or it will be skipped; or
           * "unknown: …" when that cannot be told (the bus cannot read the topic, where it sat is not known).
           */
          warning: { type: 'string' },
        },
      },
    },
    /** Letters with a warning. */
    warnings: count,
  },
} as const;
