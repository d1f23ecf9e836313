const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId'],
  properties: {
    branchId: id,
    /** Walk-ins name the service; a booking brings its own. */
    serviceId: id,
    bookingId: { type: 'string', format: 'uuid' },
    /** Walk-ins only: the patient, when known (anonymous tickets are fine). */
    patientId: id,
    /** Staff only: the lane to queue in; walk-ins default to walkin, bookings to the patient's tier or punctuality. */
    lane: { enum: ['svip', 'vip', 'walkin'] },
  },
} as const;

/** A queue ticket as patients and staff see it (ticket-status, call-next and ticket-action answer with it too). */
export const ticket = {
  type: 'object',
  required: ['ticketId', 'number', 'branchId', 'serviceId', 'lane', 'status', 'position', 'etaMinutes', 'issuedAt', 'bookingId', 'patientId'],
  properties: {
    ticketId: { type: 'string', format: 'uuid' },
    /** Service prefix and the day's sequence, e.g. A-042. */
    number: { type: 'string' },
    branchId: { type: 'string' },
    serviceId: { type: 'string' },
    lane: { enum: ['svip', 'vip', 'booked', 'walkin'] },
    status: { enum: ['waiting', 'called', 'skipped', 'served', 'no_show'] },
    /** 1-based place in the line while waiting; null once called. */
    position: { type: ['integer', 'null'] },
    etaMinutes: { type: ['integer', 'null'] },
    counter: { type: ['string', 'null'] },
    issuedAt: { type: 'string', format: 'date-time' },
    calledAt: { type: ['string', 'null'], format: 'date-time' },
    servedAt: { type: ['string', 'null'], format: 'date-time' },
    bookingId: { type: ['string', 'null'] },
    patientId: { type: ['string', 'null'] },
  },
} as const;
