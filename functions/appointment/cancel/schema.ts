// What appointment-cancel accepts: the visit and a coded reason (patient, provider, clinic) with a note.
import { uuid } from '../schemas';
export { appointment } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId'],
  properties: {
    appointmentId: uuid,
    /** Who called it off: the patient; the provider (a doctor is ill); the clinic (a room or device is out). Default: the patient for a patient, the clinic for staff. */
    reason: { enum: ['patient', 'provider', 'clinic'] },
    note: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;
