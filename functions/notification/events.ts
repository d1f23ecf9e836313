// The notification system's events. It accepts notification requests (any system), released results
// (result-events) and the CRM's customers (crm-customers); its own provider callbacks and read receipts go
// through notification-updates (so a callback is answered at once and applied in order per delivery); what
// happened to each notification goes out on notification-events. Ids, channels and statuses only: never a
// contact, a name or a result.
import { notificationRequested } from '../shared/events/notification-request';
import { resultReleased } from '../shared/events/result-released';
import { customerErased, customerUpdated } from '../shared/events/crm-customer';

export const topics = {
  requests: 'notification-requests',
  results: 'result-events',
  customers: 'crm-customers',
  updates: 'notification-updates',
  deliveries: 'notification-deliveries',
  events: 'notification-events',
} as const;

export const channels = ['in-app', 'push', 'sms', 'email'] as const;
/** What providers report (Twilio's MessageStatus words), and read: a status only ever moves forward. */
export const deliveryStatuses = ['queued', 'sent', 'delivered', 'undelivered', 'failed', 'read'] as const;

const uuid = { type: 'string', format: 'uuid' } as const;
const id = { type: 'string', minLength: 1, maxLength: 100 } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const channel = { enum: channels } as const;

export const events = {
  'com.medlab.notification.delivery-due': {
    topic: topics.deliveries,
    key: 'deliveryId',
    description: 'A delivery is due to be sent now (a new notification, its send time reached, a retry after backoff, the next channel of a failover): the sender takes it.',
    schema: {
      type: 'object', additionalProperties: false, required: ['deliveryId', 'notificationId', 'channel'],
      properties: { deliveryId: uuid, notificationId: uuid, channel, attempt: { type: 'integer', minimum: 1 } },
    },
  },
  'com.medlab.notification.delivery-reported': {
    topic: topics.updates,
    key: 'deliveryId',
    description: 'A provider reported a delivery\'s status (its callback, signature checked): sent, delivered, undelivered, failed. Callbacks come out of order and twice; the status only moves forward.',
    schema: {
      type: 'object', additionalProperties: false, required: ['deliveryId', 'channel', 'status', 'at', 'provider'],
      properties: {
        deliveryId: uuid, channel, provider: id, providerMessageId: { type: 'string', maxLength: 200 },
        status: { enum: deliveryStatuses }, at: instant,
        // The provider's error code (Twilio 30003 unreachable handset …), never its free text.
        errorCode: { type: 'string', maxLength: 20 },
      },
    },
  },
  'com.medlab.notification.read': {
    topic: topics.updates,
    key: 'deliveryId',
    description: 'The patient opened a notification (the in-app inbox, a push or an email link): a read receipt.',
    schema: {
      type: 'object', additionalProperties: false, required: ['deliveryId', 'notificationId', 'patientId', 'channel', 'at'],
      properties: { deliveryId: uuid, notificationId: uuid, patientId: id, channel, at: instant },
    },
  },
  'com.medlab.notification.delivery-changed': {
    topic: topics.events,
    key: 'notificationId',
    description: 'A notification\'s delivery on one channel moved: queued, sent, delivered, undelivered, failed, read.',
    schema: {
      type: 'object', additionalProperties: false, required: ['notificationId', 'deliveryId', 'requestId', 'channel', 'status', 'at'],
      properties: {
        notificationId: uuid, deliveryId: uuid, requestId: { type: 'string', maxLength: 255 }, patientId: id, channel,
        status: { enum: deliveryStatuses }, at: instant, template: id, category: id,
      },
    },
  },
  'com.medlab.notification.unreachable': {
    topic: topics.events,
    key: 'notificationId',
    description: 'A patient has no usable channel but the in-app inbox (no contact, opted out, every channel failed): they are counted unreachable.',
    schema: {
      type: 'object', additionalProperties: false, required: ['notificationId', 'requestId', 'patientId', 'reason'],
      properties: { notificationId: uuid, requestId: { type: 'string', maxLength: 255 }, patientId: id, template: id, reason: { type: 'string', maxLength: 300 } },
    },
  },
  // Accepted from other systems.
  'com.medlab.notification.requested': notificationRequested,
  'com.medlab.result.released': resultReleased,
  'com.medlab.crm.customer-updated': customerUpdated,
  'com.medlab.crm.customer-erased': customerErased,
} as const;
