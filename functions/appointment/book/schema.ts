// What appointment-book accepts: a hold to confirm (appointmentId), or a visit type, branch and start to
// book at once.
import { forPatient, id, instant, notes, uuid } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  properties: { appointmentId: uuid, visitTypeId: id, branchId: id, start: instant, notes, ...forPatient },
} as const;
