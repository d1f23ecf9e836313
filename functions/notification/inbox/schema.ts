// What notification-inbox accepts and answers: the patient's in-app inbox, newest first, a page at a time.
import { cursor, inboxItem, limit } from '../api-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Only items not yet read. */
    unread: { type: 'boolean', default: false },
    /** The archive instead of the inbox. */
    archived: { type: 'boolean', default: false },
    limit,
    cursor,
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: inboxItem },
    /** Pass as ?cursor= for the next page; null on the last page. */
    nextCursor: { type: ['string', 'null'] },
  },
} as const;
