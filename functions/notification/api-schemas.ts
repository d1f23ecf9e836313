// The shapes the notification routes share: ids as the events write them, a page's cursor and size, the
// in-app inbox item and the badge counts as every inbox route answers them.
import { channels } from './events';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' } as const;
export const instant = { type: 'string', format: 'date-time' } as const;
export const channel = { enum: channels } as const;
/** HH:MM on the patient's own clock (24-hour). */
export const clockTime = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;
/** nextCursor of the previous page, as it was given. */
export const cursor = { type: 'string', minLength: 1, maxLength: 200 } as const;
export const limit = { type: 'integer', minimum: 1, maximum: 100, default: 20 } as const;
const maybeInstant = { type: ['string', 'null'], format: 'date-time' } as const;

export const inboxItem = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'notificationId', 'category', 'title', 'body', 'link', 'createdAt', 'seenAt', 'readAt', 'archivedAt'],
  properties: {
    id: uuid,
    notificationId: uuid,
    category: { type: 'string' },
    title: { type: 'string' },
    body: { type: 'string' },
    /** Into the portal; null when the notice has none. */
    link: { type: ['string', 'null'] },
    createdAt: instant,
    seenAt: maybeInstant,
    readAt: maybeInstant,
    archivedAt: maybeInstant,
  },
} as const;

/** The badge: unread items (not archived), and those of them the patient has not even seen in the list. */
export const counts = {
  type: 'object',
  additionalProperties: false,
  required: ['unread', 'unseen'],
  properties: { unread: { type: 'integer', minimum: 0 }, unseen: { type: 'integer', minimum: 0 } },
} as const;
