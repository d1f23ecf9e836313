export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['slotId'],
  properties: {
    slotId: { type: 'string', format: 'uuid' },
    /** Staff and services book on a patient's behalf; patients always book for themselves. */
    patientId: { type: 'string', minLength: 1, maxLength: 100 },
    channel: { enum: ['portal', 'app', 'front-desk', 'call-centre'] },
  },
} as const;

export const booking = {
  type: 'object',
  required: ['bookingId', 'patientId', 'slotId', 'branchId', 'serviceId', 'startsAt', 'endsAt', 'status'],
  properties: {
    bookingId: { type: 'string', format: 'uuid' },
    patientId: { type: 'string' },
    slotId: { type: 'string', format: 'uuid' },
    branchId: { type: 'string' },
    serviceId: { type: 'string' },
    startsAt: { type: 'string', format: 'date-time' },
    endsAt: { type: 'string', format: 'date-time' },
    status: { enum: ['pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show'] },
    channel: { type: 'string' },
    cancelReason: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
