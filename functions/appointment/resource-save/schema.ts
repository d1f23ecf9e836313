// What appointment-resource-save accepts: a resource (new, or resourceId to change one) with its weekly hours.
import { id, timezone, uuid } from '../schemas';
import { hours, resource } from '../resources/schema';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'kind', 'name', 'hours'],
  properties: {
    resourceId: uuid,
    branchId: id,
    kind: { enum: ['practitioner', 'room', 'device'] },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    capabilities: { type: 'array', maxItems: 20, uniqueItems: true, items: id, default: [] },
    timezone,
    hours,
    active: { type: 'boolean', default: true },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['resource', 'visitsOutsideSchedule'],
  properties: {
    resource,
    /** Coming visits that now hold the resource outside its time: staff reschedule them (nothing is moved silently). */
    visitsOutsideSchedule: { type: 'array', items: uuid },
  },
} as const;
