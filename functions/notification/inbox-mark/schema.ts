// What notification-inbox-mark accepts and answers: an action on some of the patient's items (itemIds) or on
// every item it applies to (all: true), and the badge as it is afterwards.
import { counts, uuid } from '../api-schemas';

export const actions = ['read', 'seen', 'archive', 'unarchive'] as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    /** read: opened (also seen; a read receipt goes to the delivery); seen: shown in the list; archive / unarchive. */
    action: { enum: actions },
    itemIds: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: uuid },
    /** Every item the action applies to: read and seen, the inbox (not the archive); archive, the inbox; unarchive, the archive. */
    all: { enum: [true] },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['updated', 'counts'],
  properties: {
    /** The items this request changed (those already in that state are not listed: nothing happened to them). */
    updated: { type: 'array', items: uuid },
    counts,
  },
} as const;
