export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['ticketId', 'action'],
  properties: {
    ticketId: { type: 'string', format: 'uuid' },
    /**
     * serve: the called patient is done. skip: the called patient did not come; the ticket waits aside.
     * recall: call a skipped (or called) ticket again. no-show: close the ticket; the patient never came.
     */
    action: { enum: ['serve', 'skip', 'recall', 'no-show'] },
    /** recall only: the counter calling the ticket again (required for a skipped ticket). */
    counter: { type: 'string', minLength: 1, maxLength: 20 },
  },
} as const;

export { ticket } from '../check-in/schema';
