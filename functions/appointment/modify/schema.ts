// What appointment-modify accepts: another visit type (services) and/or notes.
import { id, notes, uuid } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId'],
  minProperties: 2,
  properties: { appointmentId: uuid, visitTypeId: id, notes },
} as const;
