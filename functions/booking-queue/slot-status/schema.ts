export { slot } from '../slots-create/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['slotId', 'status'],
  properties: {
    slotId: { type: 'string', format: 'uuid' },
    status: { enum: ['open', 'closed'] },
  },
} as const;
