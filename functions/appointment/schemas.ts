// The shapes the appointment routes share: ids as the events write them, and the appointment as every
// route answers it (FHIR Appointment statuses; ids, times and codes).
import { appointmentStatuses, cancelReasons, paymentStatuses } from './events';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' } as const;
export const instant = { type: 'string', format: 'date-time' } as const;
export const date = { type: 'string', format: 'date' } as const;
export const timezone = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$' } as const;
export const language = { enum: ['vi', 'en'] } as const;
export const notes = { type: 'string', minLength: 1, maxLength: 2000 } as const;

export const appointment = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId', 'patientId', 'branchId', 'visitTypeId', 'start', 'end', 'status', 'paymentStatus', 'patientTimezone', 'language'],
  properties: {
    appointmentId: uuid, patientId: id, branchId: id, visitTypeId: id, start: instant, end: instant,
    status: { enum: appointmentStatuses },
    paymentStatus: { enum: paymentStatuses },
    holdExpiresAt: instant,
    cancelReason: { enum: cancelReasons },
    cancelNote: { type: 'string' },
    notes: { type: 'string' },
    resourceIds: { type: 'array', items: uuid },
    patientTimezone: { type: 'string' },
    language,
  },
} as const;

/** Who the visit is for: a patient books for themselves; staff and services name the patient. */
export const forPatient = {
  patientId: id,
  patientTimezone: timezone,
  language,
} as const;
