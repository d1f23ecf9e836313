// What notification-push-subscribe accepts and answers: a browser's PushSubscription as toJSON() gives it.
import { instant, uuid } from '../api-schemas';

const base64url = (max: number) => ({ type: 'string', minLength: 16, maxLength: max, pattern: '^[A-Za-z0-9_-]+={0,2}$' }) as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint', 'keys'],
  properties: {
    /** The push service's URL for this browser (https). */
    endpoint: { type: 'string', format: 'uri', minLength: 10, maxLength: 2000 },
    /** What browsers send; not kept (a subscription gone is learnt from the push service's 404/410). */
    expirationTime: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    keys: {
      type: 'object',
      additionalProperties: false,
      required: ['p256dh', 'auth'],
      properties: {
        /** The browser's P-256 public key (RFC 8291), base64url. */
        p256dh: base64url(100),
        /** The 16-byte authentication secret, base64url. */
        auth: base64url(30),
      },
    },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['subscriptionId', 'endpoint', 'createdAt'],
  properties: { subscriptionId: uuid, endpoint: { type: 'string' }, createdAt: instant },
} as const;
