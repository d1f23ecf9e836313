// What appointment-visit-type-save accepts: a visit type, its length and one requirement per resource it needs.
import { id } from '../schemas';
import { requirement, visitType } from '../visit-types/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypeId', 'name', 'durationMinutes', 'requirements'],
  properties: {
    visitTypeId: id,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    // Up to 12 hours: a holding longer than a day could not be found by the calendars' window.
    durationMinutes: { type: 'integer', minimum: 5, maximum: 720 },
    requirements: { type: 'array', minItems: 1, maxItems: 10, items: requirement },
    requiresPayment: { type: 'boolean', default: false },
    active: { type: 'boolean', default: true },
  },
} as const;

export { visitType };
