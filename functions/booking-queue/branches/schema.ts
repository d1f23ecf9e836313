export const branchList = {
  type: 'object',
  required: ['branches'],
  properties: {
    branches: {
      type: 'array',
      items: {
        type: 'object',
        required: ['branchId', 'name', 'timezone', 'laneOrder', 'services'],
        properties: {
          branchId: { type: 'string' },
          name: { type: 'string' },
          /** IANA timezone the branch's days and slot times are read in, e.g. Asia/Ho_Chi_Minh. */
          timezone: { type: 'string' },
          /** Order in which the queue serves its lanes. */
          laneOrder: { type: 'array', items: { enum: ['svip', 'vip', 'booked', 'walkin'] } },
          services: {
            type: 'array',
            items: {
              type: 'object',
              required: ['serviceId', 'name', 'durationMinutes', 'ticketPrefix', 'requiresConfirmation'],
              properties: {
                serviceId: { type: 'string' },
                name: { type: 'string' },
                durationMinutes: { type: 'integer' },
                ticketPrefix: { type: 'string' },
                /** Bookings wait as pending until staff confirm them. */
                requiresConfirmation: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
} as const;
