import { booking } from '../book-slot/schema';

export { booking };

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** One booking: the answer is that booking's view instead of a list. */
    bookingId: { type: 'string', format: 'uuid' },
    /** Whose bookings (staff must give this or bookingId; patients may only give their own). */
    patientId: { type: 'string', minLength: 1, maxLength: 100 },
    status: { enum: ['pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show'] },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

export const bookingList = {
  type: 'object',
  required: ['bookings'],
  properties: { bookings: { type: 'array', items: booking } },
} as const;
