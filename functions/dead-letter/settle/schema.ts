// What dead-letter-settle accepts and answers.
import { group } from '../list/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    /**
     * park: it will not heal by itself; keep it for later, with no automatic retry. discard: it needs no
     * delivery at all. reopen: a parked or discarded letter waits again (for an operator's retry or redrive).
     */
    action: { enum: ['park', 'discard', 'reopen'] },
    /** Why (required to park or discard): kept with the letter for whoever looks next. */
    reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' },
    /** These letters… */
    letterIds: { type: 'array', minItems: 1, maxItems: 500, items: { type: 'string', format: 'uuid' } },
    /** …or every letter of this group (fingerprint). */
    group,
  },
} as const;

export const settled = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'changed', 'letterIds'],
  properties: {
    action: { enum: ['park', 'discard', 'reopen'] },
    /** Letters whose status changed; those already there, or past it (resolved), are left as they were. */
    changed: { type: 'integer', minimum: 0 },
    /** The letters changed, newest first. */
    letterIds: { type: 'array', items: { type: 'string', format: 'uuid' } },
  },
} as const;
