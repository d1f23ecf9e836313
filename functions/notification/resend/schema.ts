// What notification-resend accepts and answers: a notification and (optionally) the channel to send it on
// again; by default the first channel of its plan after the in-app inbox.
import { channel, uuid } from '../api-schemas';
import { delivery } from '../history/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['notificationId'],
  properties: { notificationId: uuid, channel },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['notificationId', 'delivery'],
  properties: { notificationId: uuid, delivery },
} as const;
