export { booking } from '../book-slot/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['bookingId', 'slotId'],
  properties: {
    bookingId: { type: 'string', format: 'uuid' },
    /** The slot to move to: same service, same branch. */
    slotId: { type: 'string', format: 'uuid' },
  },
} as const;
