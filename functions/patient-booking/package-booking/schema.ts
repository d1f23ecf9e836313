// What package-booking accepts: one package booking by its id (the Location package-book answered).
export { packageBooking } from '../bookings';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId'],
  properties: { bookingId: { type: 'string', format: 'uuid' } },
} as const;
