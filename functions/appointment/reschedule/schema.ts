// What appointment-reschedule accepts: the visit and its new start.
import { instant, uuid } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId', 'start'],
  properties: { appointmentId: uuid, start: instant },
} as const;
