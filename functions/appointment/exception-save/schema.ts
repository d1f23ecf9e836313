// What appointment-exception-save accepts: a period a resource is away (closed) or works extra (open).
import { instant, uuid } from '../schemas';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['resourceId', 'kind', 'start', 'end'],
  properties: {
    resourceId: uuid,
    kind: { enum: ['closed', 'open'] },
    start: instant,
    end: instant,
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['exceptionId', 'resourceId', 'kind', 'start', 'end', 'visitsOutsideSchedule'],
  properties: {
    exceptionId: uuid, resourceId: uuid, kind: { enum: ['closed', 'open'] }, start: instant, end: instant, reason: { type: 'string' },
    visitsOutsideSchedule: { type: 'array', items: uuid },
  },
} as const;
