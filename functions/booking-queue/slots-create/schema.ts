const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'serviceId', 'startsAt', 'capacity'],
  properties: {
    branchId: id,
    serviceId: id,
    startsAt: { type: 'string', format: 'date-time' },
    /** Defaults to the service's nominal duration. */
    durationMinutes: { type: 'integer', minimum: 5, maximum: 480 },
    capacity: { type: 'integer', minimum: 1, maximum: 500 },
  },
} as const;

export const slot = {
  type: 'object',
  required: ['slotId', 'branchId', 'serviceId', 'startsAt', 'endsAt', 'capacity', 'booked', 'status'],
  properties: {
    slotId: { type: 'string', format: 'uuid' },
    branchId: { type: 'string' },
    serviceId: { type: 'string' },
    startsAt: { type: 'string', format: 'date-time' },
    endsAt: { type: 'string', format: 'date-time' },
    capacity: { type: 'integer' },
    booked: { type: 'integer' },
    status: { enum: ['open', 'closed'] },
  },
} as const;
