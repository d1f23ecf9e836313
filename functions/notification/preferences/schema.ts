// What notification-preferences answers: the categories a patient may set, the channels there are, and the
// preferences the patient has saved ('*' applies to every category without its own).
import { channel, clockTime, instant } from '../api-schemas';
import { categoryNames } from '../preferences';

export const category = { type: 'string', enum: categoryNames } as const;
export const quietHours = {
  anyOf: [
    { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: clockTime, end: clockTime } },
    { type: 'null' },
  ],
} as const;

export const preference = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'channels', 'quietHours', 'updatedAt'],
  properties: {
    category: { type: 'string' },
    /** In the order to try them: the first other than in-app is sent, the next only when it fails. */
    channels: { type: 'array', items: channel },
    /** On the patient's own clock; a non-critical notice waits until the end. null: none. */
    quietHours,
    updatedAt: instant,
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['categories', 'channels', 'preferences'],
  properties: {
    categories: { type: 'array', items: { type: 'string' } },
    channels: { type: 'array', items: channel },
    preferences: { type: 'array', items: preference },
  },
} as const;
