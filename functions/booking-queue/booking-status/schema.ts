export { booking } from '../book-slot/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId', 'status'],
  properties: {
    bookingId: { type: 'string', format: 'uuid' },
    /** confirmed: staff accept a pending booking; completed: the visit is over; no_show: the patient never came. */
    status: { enum: ['confirmed', 'completed', 'no_show'] },
  },
} as const;
