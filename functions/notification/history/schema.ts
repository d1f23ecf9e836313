// What notification-history accepts and answers: a patient's notifications, newest first, each with its
// deliveries and every status they were told of. Ids, template names, categories, statuses and codes only:
// no address, no rendered words, no variables.
import { channel, cursor, id, instant, limit, uuid } from '../api-schemas';
import { deliveryStatuses } from '../events';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['patientId'],
  properties: { patientId: id, limit, cursor },
} as const;

const status = { enum: deliveryStatuses } as const;

export const delivery = {
  type: 'object',
  additionalProperties: false,
  required: ['deliveryId', 'channel', 'status', 'statusAt', 'attempts', 'lastError', 'provider', 'createdAt', 'history'],
  properties: {
    deliveryId: uuid,
    channel,
    status,
    statusAt: instant,
    /** Sends tried so far. */
    attempts: { type: 'integer', minimum: 0 },
    /** The provider's code or a short reason ("no phone number"); null when the last attempt did not fail. */
    lastError: { type: ['string', 'null'] },
    provider: { type: ['string', 'null'] },
    createdAt: instant,
    /** Every status it was told of, oldest first: by the sender, a provider's callback, the patient, staff (staff:<who>). */
    history: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['status', 'at', 'source', 'errorCode'],
        properties: { status, at: instant, source: { type: 'string' }, errorCode: { type: ['string', 'null'] } },
      },
    },
  },
} as const;

export const notification = {
  type: 'object',
  additionalProperties: false,
  required: ['notificationId', 'template', 'category', 'critical', 'status', 'channels', 'sendAt', 'createdAt', 'deliveries'],
  properties: {
    notificationId: uuid,
    template: { type: 'string' },
    category: { type: 'string' },
    critical: { type: 'boolean' },
    status: { enum: ['pending', 'dispatched', 'done', 'unreachable', 'cancelled'] },
    /** The plan: channels in the order they are tried (the failover chain). */
    channels: { type: 'array', items: channel },
    sendAt: instant,
    createdAt: instant,
    deliveries: { type: 'array', items: delivery },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['patientId', 'notifications', 'nextCursor'],
  properties: {
    patientId: { type: 'string' },
    notifications: { type: 'array', items: notification },
    /** Pass as ?cursor= for the next page; null on the last page. */
    nextCursor: { type: ['string', 'null'] },
  },
} as const;
