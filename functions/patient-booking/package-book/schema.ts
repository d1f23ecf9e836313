// What package-book accepts: a package and the booking queue's slot the patient picked from its availability.
export { packageBooking } from '../bookings';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['packageCode', 'slotId'],
  properties: {
    packageCode: { type: 'string', minLength: 1, maxLength: 60 },
    /** A slot of the package's service, from the booking queue's availability (GET /api/availability). */
    slotId: { type: 'string', format: 'uuid' },
    /** Staff and services book on a patient's behalf; patients always book for themselves. */
    patientId: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;
