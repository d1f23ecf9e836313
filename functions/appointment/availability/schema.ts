// What appointment-availability accepts and answers: a visit type at a branch over branch-local days.
import { date, id, instant, uuid } from '../schemas';

export const MAX_DAYS = 92;

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypeId', 'branchId', 'from'],
  properties: {
    visitTypeId: id,
    branchId: id,
    /** First branch-local day. */
    from: date,
    /** Last branch-local day, included (default: from); at most 92 days after from. */
    to: date,
    limit: { type: 'integer', minimum: 1, maximum: 2000, default: 200 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypeId', 'branchId', 'durationMinutes', 'slots'],
  properties: {
    visitTypeId: { type: 'string' },
    branchId: { type: 'string' },
    durationMinutes: { type: 'integer' },
    slots: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['start', 'end'],
        // resourceIds: staff and services see which resources would serve it; patients do not.
        properties: { start: instant, end: instant, resourceIds: { type: 'array', items: uuid } },
      },
    },
  },
} as const;
