// What appointment-resources answers: a branch's resources with their weekly hours and coming exceptions.
import { id, uuid } from '../schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId'],
  properties: { branchId: id, includeInactive: { type: 'boolean', default: false } },
} as const;

export const hours = {
  type: 'object',
  additionalProperties: false,
  propertyNames: { enum: ['1', '2', '3', '4', '5', '6', '7'] },
  patternProperties: {
    '^[1-7]$': {
      type: 'array', maxItems: 6,
      items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$' } },
    },
  },
} as const;

export const resource = {
  type: 'object',
  additionalProperties: false,
  required: ['resourceId', 'branchId', 'kind', 'name', 'capabilities', 'timezone', 'hours', 'active'],
  properties: {
    resourceId: uuid, branchId: { type: 'string' }, kind: { enum: ['practitioner', 'room', 'device'] }, name: { type: 'string' },
    capabilities: { type: 'array', items: { type: 'string' } }, timezone: { type: 'string' }, hours: { type: 'object' }, active: { type: 'boolean' },
    exceptions: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['exceptionId', 'kind', 'start', 'end'],
        properties: { exceptionId: uuid, kind: { enum: ['closed', 'open'] }, start: { type: 'string' }, end: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'resources'],
  properties: { branchId: { type: 'string' }, resources: { type: 'array', items: resource } },
} as const;
