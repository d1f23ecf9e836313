// What dead-letter-list accepts and answers; the letter view (letters.ts letterSummary) is shared by every
// dead-letter route that shows letters.
import { statuses } from '../letters';

/** A group is a failure fingerprint (letters.ts, intake's failureFingerprint): hex. */
export const group = { type: 'string', pattern: '^[0-9a-f]{1,64}$' } as const;
const name = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const minutes = { type: 'integer', minimum: 0, maximum: 525_600 } as const;

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** The system whose contract declares the event type (booking-queue, …, unknown). */
    system: name(100),
    /** The KafkaSource that gave up on the event. */
    source: name(253),
    consumer: name(200),
    /** CloudEvent type. */
    type: name(200),
    group,
    status: { enum: statuses },
    /** The consumer's HTTP status when it last failed. */
    code: { type: 'integer', minimum: 100, maximum: 599 },
    /** Received at least this many minutes ago. */
    olderThanMinutes: minutes,
    /** Received within the last this many minutes. */
    newerThanMinutes: { ...minutes, minimum: 1 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    /** nextCursor of the previous page, as it was given. */
    cursor: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

const text = { type: 'string' } as const;
const maybe = (type: 'string' | 'integer') => ({ type: [type, 'null'] }) as const;
const at = { type: 'string', format: 'date-time' } as const;

export const letter = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'system', 'status', 'eventId', 'eventSource', 'eventType', 'topic', 'kafkaSource', 'consumer', 'partition', 'offset', 'key',
    'code', 'reason', 'group', 'attempts', 'retries', 'nextRetryAt', 'receivedAt', 'lastSeenAt', 'statusReason', 'statusBy', 'statusAt', 'resolution', 'truncated'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    system: text,
    status: { enum: statuses },
    eventId: text,
    eventSource: text,
    eventType: text,
    topic: maybe('string'),
    kafkaSource: maybe('string'),
    consumer: maybe('string'),
    partition: maybe('integer'),
    offset: maybe('integer'),
    key: maybe('string'),
    /** The consumer's HTTP status (null: no answer at all). */
    code: maybe('integer'),
    /** Why it failed; quoted values masked unless the caller holds the phi grant. */
    reason: maybe('string'),
    group: text,
    /** Failed deliveries the intake heard of. */
    attempts: { type: 'integer' },
    /** Automatic retries made. */
    retries: { type: 'integer' },
    nextRetryAt: { type: ['string', 'null'], format: 'date-time' },
    receivedAt: at,
    lastSeenAt: at,
    statusReason: maybe('string'),
    statusBy: maybe('string'),
    statusAt: at,
    resolution: maybe('string'),
    truncated: { type: 'boolean' },
  },
} as const;

export const page = {
  type: 'object',
  additionalProperties: false,
  required: ['letters', 'nextCursor'],
  properties: {
    letters: { type: 'array', items: letter },
    /** Pass as ?cursor= for the next page; null on the last page. */
    nextCursor: maybe('string'),
  },
} as const;
