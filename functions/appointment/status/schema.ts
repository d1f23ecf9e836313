// What appointment-status accepts: the visit and the FHIR status staff record.
import { uuid } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId', 'status'],
  properties: { appointmentId: uuid, status: { enum: ['arrived', 'checked-in', 'fulfilled', 'noshow', 'entered-in-error'] } },
} as const;
