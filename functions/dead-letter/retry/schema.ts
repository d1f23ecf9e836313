// What dead-letter-retry accepts and answers (contract 5 of the dead-letter API).
const uuid = { type: 'string', format: 'uuid' } as const;

/** At most this many letters per call: each is one delivery the operator waits for. */
export const MAX_LETTERS = 100;

export const body = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Either the letters by id, or a group (its fingerprint): its newest open or parked letters.
    letterIds: { type: 'array', minItems: 1, maxItems: MAX_LETTERS, uniqueItems: true, items: uuid },
    group: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['delivered', 'failed', 'skipped', 'results'],
  properties: {
    delivered: { type: 'integer', minimum: 0 },
    failed: { type: 'integer', minimum: 0 },
    skipped: { type: 'integer', minimum: 0 },
    results: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['letterId', 'outcome', 'code', 'reason'],
        properties: {
          letterId: uuid,
          outcome: { enum: ['delivered', 'failed', 'skipped'] },
          // The consumer's HTTP status; null when it did not answer or nothing was sent.
          code: { type: ['integer', 'null'] },
          reason: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;
