// What appointment-day answers: a branch's day per resource, its working hours and the visits on it.
import { date, id, instant, uuid } from '../schemas';
import { appointmentStatuses } from '../events';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'date'],
  properties: { branchId: id, date },
} as const;

const period = { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: instant, end: instant } } as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'date', 'resources'],
  properties: {
    branchId: { type: 'string' },
    date: { type: 'string' },
    resources: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['resourceId', 'kind', 'name', 'working', 'appointments'],
        properties: {
          resourceId: uuid, kind: { enum: ['practitioner', 'room', 'device'] }, name: { type: 'string' },
          working: { type: 'array', items: period },
          appointments: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false, required: ['appointmentId', 'patientId', 'visitTypeId', 'start', 'end', 'status'],
              properties: { appointmentId: uuid, patientId: { type: 'string' }, visitTypeId: { type: 'string' }, start: instant, end: instant, status: { enum: appointmentStatuses } },
            },
          },
        },
      },
    },
  },
} as const;
