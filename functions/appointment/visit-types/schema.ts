// What appointment-visit-types answers: the kinds of visit that can be booked and what each needs.
import { id } from '../schemas';

export const requirement = {
  type: 'object', additionalProperties: false, required: ['kind'],
  properties: { kind: { enum: ['practitioner', 'room', 'device'] }, capability: id },
} as const;

export const visitType = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypeId', 'name', 'durationMinutes', 'requirements', 'requiresPayment', 'active'],
  properties: {
    visitTypeId: { type: 'string' }, name: { type: 'string' }, durationMinutes: { type: 'integer' },
    requirements: { type: 'array', items: requirement }, requiresPayment: { type: 'boolean' }, active: { type: 'boolean' },
  },
} as const;

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: { includeInactive: { type: 'boolean', default: false } },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['visitTypes'],
  properties: { visitTypes: { type: 'array', items: visitType } },
} as const;
