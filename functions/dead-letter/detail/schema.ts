// What dead-letter-detail accepts and answers.
import { letter } from '../list/schema';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    /** Show the event data and the consumer's answer as they are: needs the phi grant, and the view is recorded. */
    unmasked: { type: 'boolean', default: false },
  },
} as const;

const attempt = {
  type: 'object',
  additionalProperties: false,
  required: ['at', 'kind', 'outcome', 'by', 'code', 'reason'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    /** delivery (the KafkaSource gave up), retry (an operator), auto-retry, redrive. */
    kind: { type: 'string' },
    /** failed, delivered or sent. */
    outcome: { type: 'string' },
    by: { type: ['string', 'null'] },
    code: { type: ['integer', 'null'] },
    reason: { type: ['string', 'null'] },
  },
} as const;

export const detail = {
  type: 'object',
  additionalProperties: false,
  required: ['letter', 'event', 'errorData', 'masked', 'attempts'],
  properties: {
    letter,
    /** The CloudEvent as kept (attributes whole; data masked unless unmasked=true). */
    event: { type: 'object' },
    /** The consumer's answer when it refused the event (JSON, or text), masked likewise; null when none. */
    errorData: {},
    masked: { type: 'boolean' },
    /** The letter's history, oldest first. */
    attempts: { type: 'array', items: attempt },
  },
} as const;
