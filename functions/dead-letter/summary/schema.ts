// What dead-letter-summary accepts and answers.
import { statuses } from '../letters';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** How far back the timeline reaches. */
    hours: { type: 'integer', minimum: 1, maximum: 720, default: 24 },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;
const at = { type: 'string', format: 'date-time' } as const;
const byStatus = (extra: Record<string, unknown> = {}, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required: [...required, ...statuses],
  properties: { ...extra, open: count, retrying: count, parked: count, resolved: count, discarded: count },
}) as const;

export const summary = {
  type: 'object',
  additionalProperties: false,
  required: ['byStatus', 'bySystem', 'groups', 'oldestUnresolvedAt', 'oldestUnresolvedMinutes', 'timeline'],
  properties: {
    /** Letters kept, by status. */
    byStatus: byStatus(),
    /** The same by system (the system whose contract declares the event type). */
    bySystem: { type: 'array', items: byStatus({ system: { type: 'string' } }, ['system']) },
    /** Alike failures (at most 100): those with the most letters still waiting first, then the latest. */
    groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'system', 'eventType', 'consumer', 'code', 'reason', 'count', 'open', 'unresolved', 'firstReceivedAt', 'lastReceivedAt'],
        properties: {
          group: { type: 'string' },
          system: { type: 'string' },
          eventType: { type: 'string' },
          consumer: { type: ['string', 'null'] },
          code: { type: ['integer', 'null'] },
          /** The latest letter's reason (quoted values masked unless the caller holds the phi grant). */
          reason: { type: ['string', 'null'] },
          count,
          /** Letters with status open. */
          open: count,
          /** Letters still waiting: open, retrying or parked. */
          unresolved: count,
          firstReceivedAt: at,
          lastReceivedAt: at,
        },
      },
    },
    /** When the oldest letter still waiting (open, retrying or parked) was received; null when none waits. */
    oldestUnresolvedAt: { type: ['string', 'null'], format: 'date-time' },
    oldestUnresolvedMinutes: { type: ['integer', 'null'], minimum: 0 },
    /** Letters received per bucket by system, over the last `hours`, oldest bucket first. */
    timeline: {
      type: 'object',
      additionalProperties: false,
      required: ['bucketMinutes', 'buckets'],
      properties: {
        bucketMinutes: { type: 'integer' },
        buckets: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['at', 'counts'],
            properties: {
              /** The bucket's start. */
              at,
              /** Letters received in it, by system (systems with none left out). */
              counts: { type: 'object', additionalProperties: count },
            },
          },
        },
      },
    },
  },
} as const;
