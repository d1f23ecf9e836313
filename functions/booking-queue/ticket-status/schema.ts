export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['ticketId'],
  properties: {
    ticketId: { type: 'string', format: 'uuid' },
  },
} as const;

export { ticket } from '../check-in/schema';
