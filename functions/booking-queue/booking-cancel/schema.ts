export { booking } from '../book-slot/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId'],
  properties: {
    bookingId: { type: 'string', format: 'uuid' },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;
