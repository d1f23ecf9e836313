// What package-bookings accepts: whose bookings (patients: their own; staff and services name the patient).
import { bookingStatuses, packageBooking } from '../bookings';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    patientId: { type: 'string', minLength: 1, maxLength: 100 },
    status: { enum: bookingStatuses },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['bookings'],
  properties: { bookings: { type: 'array', items: packageBooking } },
} as const;
