// What package-cancel accepts: the package booking to cancel.
export { packageBooking } from '../bookings';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId'],
  properties: { bookingId: { type: 'string', format: 'uuid' } },
} as const;
