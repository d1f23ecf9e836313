// What appointment-hold accepts: a visit type at a branch and a start, for the calling patient (or, from
// staff and services, the patient named).
import { forPatient, id, instant, notes } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypeId', 'branchId', 'start'],
  properties: { visitTypeId: id, branchId: id, start: instant, notes, ...forPatient },
} as const;
