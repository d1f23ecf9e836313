// What notification-preference-save accepts and answers: one category's channels in order and quiet hours.
import { channel } from '../api-schemas';
import { category, preference, quietHours } from '../preferences/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'channels'],
  properties: {
    /** A category of the templates, or '*' for every category without its own. */
    category,
    /** In the order to try them; must include in-app (always on). */
    channels: { type: 'array', minItems: 1, maxItems: 4, uniqueItems: true, items: channel },
    /** "HH:MM" to "HH:MM" on the patient's clock (may cross midnight); equal start and end: none; null or absent: the clinic's (21:00–07:00). */
    quietHours,
  },
} as const;

export const view = preference;
