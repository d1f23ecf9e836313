// The booking queue's events: what it emits about bookings, slots and queue tickets, and the requests it
// accepts from other systems on booking-requests. Each type names its topic, the record key that keeps one
// aggregate's events in order, and the JSON Schema of its data (producers and consumers check against it).

export const topics = {
  /** Booking requests put by other systems (portal, patient booking) for the booking queue to decide. */
  bookingRequests: 'booking-requests',
  /** What happened to bookings and slots. */
  bookingEvents: 'booking-events',
  /** Queue tickets: issued, called, served, positions. */
  queueEvents: 'queue-events',
} as const;

const id = { type: 'string', minLength: 1, maxLength: 100 } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const bookingStatus = { enum: ['pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show'] } as const;
const lane = { enum: ['svip', 'vip', 'booked', 'walkin'] } as const;

const bookingFacts = {
  bookingId: uuid, patientId: id, slotId: uuid, branchId: id, serviceId: id, startsAt: time, status: bookingStatus,
} as const;
const bookingFactsRequired = ['bookingId', 'patientId', 'slotId', 'branchId', 'serviceId', 'startsAt', 'status'] as const;

const ticketFacts = {
  ticketId: uuid, number: { type: 'string' }, branchId: id, serviceId: id, lane,
  patientId: { type: ['string', 'null'] }, bookingId: { anyOf: [uuid, { type: 'null' }] },
} as const;
const ticketFactsRequired = ['ticketId', 'number', 'branchId', 'serviceId', 'lane'] as const;

const obj = <const P extends Record<string, unknown>, const R extends readonly string[]>(properties: P, required: R) =>
  ({ type: 'object', additionalProperties: false, properties, required }) as const;

/** Why a booking request was refused (booking.rejected reason). */
export const rejections = ['slot-full', 'slot-closed', 'slot-not-found', 'slot-in-past', 'already-booked', 'daily-limit'] as const;

export const events = {
  'com.medlab.booking.requested': {
    topic: topics.bookingRequests, key: 'patientId',
    description: 'A patient asks for a place in a slot (from the portal or another system).',
    schema: obj({ requestId: id, patientId: id, slotId: uuid, channel: { type: 'string', maxLength: 40 } }, ['requestId', 'patientId', 'slotId']),
  },
  'com.medlab.booking.cancel-requested': {
    topic: topics.bookingRequests, key: 'patientId',
    description: 'Another system asks to cancel a booking.',
    schema: obj({ bookingId: uuid, patientId: id, reason: { type: 'string', maxLength: 500 } }, ['bookingId', 'patientId']),
  },
  'com.medlab.booking.confirmed': {
    topic: topics.bookingEvents, key: 'bookingId',
    description: 'A booking holds a place in its slot and is confirmed.',
    schema: obj({ ...bookingFacts, requestId: id }, bookingFactsRequired),
  },
  'com.medlab.booking.pending': {
    topic: topics.bookingEvents, key: 'bookingId',
    description: 'A booking holds a place and waits for staff to confirm it (services that require confirmation).',
    schema: obj({ ...bookingFacts, requestId: id }, bookingFactsRequired),
  },
  'com.medlab.booking.rejected': {
    topic: topics.bookingEvents, key: 'patientId',
    description: 'A booking request could not be met; reason says why (slot full, closed, missing or started; the patient already holds a place in it or has reached the daily limit at the branch).',
    schema: obj(
      { requestId: id, patientId: id, slotId: uuid, reason: { enum: rejections }, detail: { type: 'string' } },
      ['requestId', 'patientId', 'slotId', 'reason'],
    ),
  },
  'com.medlab.booking.cancelled': {
    topic: topics.bookingEvents, key: 'bookingId',
    description: 'A booking was cancelled and its place released.',
    schema: obj({ ...bookingFacts, reason: { type: ['string', 'null'] }, cancelledBy: { enum: ['patient', 'staff', 'service'] } }, [...bookingFactsRequired, 'cancelledBy']),
  },
  'com.medlab.booking.rescheduled': {
    topic: topics.bookingEvents, key: 'bookingId',
    description: 'A booking moved to another slot: the old place was released and the new one taken at once.',
    schema: obj({ ...bookingFacts, previousSlotId: uuid, previousStartsAt: time }, [...bookingFactsRequired, 'previousSlotId', 'previousStartsAt']),
  },
  'com.medlab.booking.status-changed': {
    topic: topics.bookingEvents, key: 'bookingId',
    description: 'A booking moved along pending → confirmed → checked_in → completed, or to no_show.',
    schema: obj({ ...bookingFacts, previousStatus: bookingStatus }, [...bookingFactsRequired, 'previousStatus']),
  },
  'com.medlab.slot.allocated': {
    topic: topics.bookingEvents, key: 'slotId',
    description: 'A place in a slot was taken.',
    schema: obj({ slotId: uuid, bookingId: uuid, booked: { type: 'integer' }, capacity: { type: 'integer' } }, ['slotId', 'bookingId', 'booked', 'capacity']),
  },
  'com.medlab.slot.released': {
    topic: topics.bookingEvents, key: 'slotId',
    description: 'A place in a slot was given back.',
    schema: obj({ slotId: uuid, bookingId: uuid, booked: { type: 'integer' }, capacity: { type: 'integer' } }, ['slotId', 'bookingId', 'booked', 'capacity']),
  },
  'com.medlab.ticket.issued': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A patient arrived and got a queue ticket.',
    schema: obj({ ...ticketFacts, queueId: id, position: { type: 'integer' }, etaMinutes: { type: 'integer' } }, [...ticketFactsRequired, 'queueId', 'position', 'etaMinutes']),
  },
  'com.medlab.ticket.called': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A ticket was called to a counter (recall: called again).',
    schema: obj({ ...ticketFacts, queueId: id, counter: id, recall: { type: 'boolean' } }, [...ticketFactsRequired, 'queueId', 'counter', 'recall']),
  },
  'com.medlab.ticket.served': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A ticket was served at a counter.',
    schema: obj({ ...ticketFacts, queueId: id, counter: id, serviceSeconds: { type: 'integer' } }, [...ticketFactsRequired, 'queueId', 'counter', 'serviceSeconds']),
  },
  'com.medlab.ticket.skipped': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A called patient did not come; the ticket waits aside until recalled.',
    schema: obj({ ...ticketFacts, queueId: id, counter: { type: ['string', 'null'] } }, [...ticketFactsRequired, 'queueId']),
  },
  'com.medlab.ticket.no-show': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A ticket was closed because the patient never came.',
    schema: obj({ ...ticketFacts, queueId: id }, [...ticketFactsRequired, 'queueId']),
  },
  'com.medlab.queue.position-changed': {
    topic: topics.queueEvents, key: 'queueId',
    description: 'A waiting patient moved up the queue (sent for the first positions, for notifications).',
    schema: obj({ ...ticketFacts, queueId: id, position: { type: 'integer' }, etaMinutes: { type: 'integer' } }, [...ticketFactsRequired, 'queueId', 'position', 'etaMinutes']),
  },
} as const;
