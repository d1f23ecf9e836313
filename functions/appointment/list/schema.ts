// What appointment-list accepts: a patient's visits (their own; staff and services name the patient) in a window.
import { appointment, id, instant } from '../schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    patientId: id,
    /** Visits starting at or after (default: the start of today, UTC). */
    from: instant,
    /** Visits starting before (default: a year after from). */
    to: instant,
    includeCancelled: { type: 'boolean', default: false },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['appointments'],
  properties: { appointments: { type: 'array', items: appointment } },
} as const;
