const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

/** Longest range one request may ask about, in calendar days (from and to included). */
export const MAX_DAYS = 62;

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'from', 'to'],
  properties: {
    branchId: id,
    serviceId: id,
    /** First and last branch-local day to list. */
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
  },
} as const;

export const availability = {
  type: 'object',
  required: ['branchId', 'from', 'to', 'days'],
  properties: {
    branchId: { type: 'string' },
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    /** Branch-local days that have at least one free place, in order; days without any are left out. */
    days: {
      type: 'array',
      items: {
        type: 'object',
        required: ['date', 'slots'],
        properties: {
          date: { type: 'string', format: 'date' },
          slots: {
            type: 'array',
            items: {
              type: 'object',
              required: ['slotId', 'serviceId', 'startsAt', 'endsAt', 'capacity', 'free'],
              properties: {
                slotId: { type: 'string', format: 'uuid' },
                serviceId: { type: 'string' },
                startsAt: { type: 'string', format: 'date-time' },
                endsAt: { type: 'string', format: 'date-time' },
                capacity: { type: 'integer' },
                free: { type: 'integer' },
              },
            },
          },
        },
      },
    },
  },
} as const;
