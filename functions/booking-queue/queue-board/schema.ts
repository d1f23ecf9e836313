export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId'],
  properties: {
    branchId: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

/** The public screen: ticket numbers and counters only, never who holds them. */
export const board = {
  type: 'object',
  required: ['branchId', 'day', 'services'],
  properties: {
    branchId: { type: 'string' },
    /** The branch-local day shown, e.g. 2026-11-21. */
    day: { type: 'string' },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['serviceId', 'name', 'nowServing', 'waiting', 'averageWaitMinutes'],
        properties: {
          serviceId: { type: 'string' },
          name: { type: 'string' },
          nowServing: {
            type: 'array',
            items: { type: 'object', required: ['number', 'counter'], properties: { number: { type: 'string' }, counter: { type: 'string' } } },
          },
          waiting: { type: 'integer' },
          /** Mean minutes from ticket to call, over today's called tickets; 0 before anyone is called. */
          averageWaitMinutes: { type: 'integer' },
        },
      },
    },
  },
} as const;
