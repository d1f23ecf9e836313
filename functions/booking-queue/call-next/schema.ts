import { ticket } from '../check-in/schema';

const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'serviceId', 'counter'],
  properties: {
    branchId: id,
    serviceId: id,
    /** The counter (desk, room) calling, as shown on the board, e.g. "3". */
    counter: { type: 'string', minLength: 1, maxLength: 20 },
  },
} as const;

export const callNextResult = {
  type: 'object',
  required: ['called', 'served', 'waiting'],
  properties: {
    /** The ticket now called to the counter; null when nobody is waiting. */
    called: { anyOf: [ticket, { type: 'null' }] },
    /** The counter's previous ticket, served as the next one is called; null if the counter was free. */
    served: { anyOf: [ticket, { type: 'null' }] },
    /** Tickets still waiting in this queue. */
    waiting: { type: 'integer' },
  },
} as const;
