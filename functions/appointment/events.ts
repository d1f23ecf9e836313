// The appointment system's events. On appointment-events (key appointmentId) it tells the bundle what
// happened to a visit: held, booked, changed, cancelled, its status, its sample, its payment, and when a
// reminder is due; the notification consumer turns them into notification-requests. It accepts check-up
// requests (checkup-requests) and POS orders (pos-orders) as CloudEvents, and the LIS's HL7 v2 messages
// (lis-sample-status) as they come. Ids, codes and times only: no name, contact or result.
import type { JSONSchema } from 'json-schema-to-ts';
import { notificationRequested } from '../shared/events/notification-request';

export const topics = {
  events: 'appointment-events',
  checkups: 'checkup-requests',
  posOrders: 'pos-orders',
  sampleStatus: 'lis-sample-status',
} as const;

const uuid = { type: 'string', format: 'uuid' } as const;
const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const date = { type: 'string', format: 'date' } as const;
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

export const appointmentStatuses = ['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'waitlist'] as const;
export const paymentStatuses = ['not-required', 'awaiting', 'paid', 'refunded'] as const;
export const sampleStatuses = ['ordered', 'collected', 'received', 'in-process', 'completed', 'rejected'] as const;
/** Who or what cancelled: the three a person gives, and the two the cron gives. */
export const cancelReasons = ['patient', 'provider', 'clinic', 'hold-expired', 'payment-expired'] as const;

/** What every appointment event says of the visit. */
const visit = {
  appointmentId: uuid,
  patientId: id,
  branchId: id,
  visitTypeId: id,
  start: instant,
  end: instant,
  status: { enum: appointmentStatuses },
  paymentStatus: { enum: paymentStatuses },
} as const;
const visitRequired = ['appointmentId', 'patientId', 'branchId', 'visitTypeId', 'start', 'end', 'status', 'paymentStatus'] as const;

const appointmentEvent = <const P extends Record<string, JSONSchema>, const R extends readonly string[]>(description: string, properties: P, required: R) => ({
  topic: topics.events,
  key: 'appointmentId',
  description,
  schema: { type: 'object', additionalProperties: false, required: [...visitRequired, ...required], properties: { ...visit, ...properties } },
}) as const;

export const events = {
  'com.medlab.appointment.held': appointmentEvent('A patient holds a time on every resource the visit needs, for a few minutes, while they confirm.', {
    holdExpiresAt: instant,
  }, ['holdExpiresAt'] as const),
  'com.medlab.appointment.booked': appointmentEvent('A visit is booked: its resources are taken for its time (pending while a POS payment is awaited).', {
    resourceIds: { type: 'array', items: uuid, maxItems: 10 },
    holdExpiresAt: instant,
  }, ['resourceIds'] as const),
  'com.medlab.appointment.changed': appointmentEvent('A visit moved to another time (rescheduled) or its visit type or notes changed (modified).', {
    change: { enum: ['rescheduled', 'modified'] },
    previousStart: instant,
    resourceIds: { type: 'array', items: uuid, maxItems: 10 },
  }, ['change'] as const),
  'com.medlab.appointment.cancelled': appointmentEvent('A visit is cancelled and its resources freed, with the coded reason.', {
    reason: { enum: cancelReasons },
    cancelledBy: { enum: ['patient', 'staff', 'service', 'cron'] },
    // true: less than a day before the visit (the patient must hear at once, whatever the hour).
    sameDay: { type: 'boolean' },
  }, ['reason', 'cancelledBy'] as const),
  'com.medlab.appointment.status-changed': appointmentEvent('A visit moved through FHIR Appointment statuses: arrived, checked-in, fulfilled, noshow, entered-in-error.', {
    previousStatus: { enum: appointmentStatuses },
  }, ['previousStatus'] as const),
  'com.medlab.appointment.sample-status-changed': appointmentEvent('The LIS reported where a sample of the visit is: collected, received, in process, completed or rejected.', {
    accession: id,
    sampleStatus: { enum: sampleStatuses },
    // ORC-5 order status as the LIS sent it (SC, IP, A, CM, CA …).
    orderStatus: { type: 'string', maxLength: 2 },
    // SPM-21, HL7 table 0490 (RH hemolysis, QS quantity not sufficient …).
    rejectReason: { type: 'string', maxLength: 20 },
    // A rejected sample: the first time a new collection can take place (null: none in the next two weeks).
    recollectionStart: { anyOf: [instant, { type: 'null' }] },
  }, ['accession', 'sampleStatus'] as const),
  'com.medlab.appointment.payment-changed': appointmentEvent('The POS order of a visit was created, paid or refunded.', {
    orderId: id,
    orderStatus: { enum: ['created', 'paid', 'refunded'] },
  }, ['orderId', 'orderStatus'] as const),
  'com.medlab.appointment.reminder-due': appointmentEvent('A booked visit is 24 hours or 2 hours away: the patient should be reminded, in their zone and language.', {
    reminder: { enum: ['24h', '2h'] },
    patientTimezone: text(60),
    language: { enum: ['vi', 'en'] },
  }, ['reminder', 'patientTimezone', 'language'] as const),
  'com.medlab.checkup.scheduled': {
    topic: topics.events,
    key: 'requestId',
    description: 'A company check-up request was spread over days and resources: how many employees have an appointment, and who could not be placed.',
    schema: {
      type: 'object', additionalProperties: false, required: ['requestId', 'companyId', 'scheduled', 'unplaced'],
      properties: {
        requestId: id, companyId: id,
        scheduled: { type: 'integer', minimum: 0 },
        unplaced: { type: 'array', items: id, maxItems: 5000 },
      },
    },
  },
  // Accepted from outside the bundle.
  'com.medlab.checkup.requested': {
    topic: topics.checkups,
    key: 'requestId',
    description: 'A company sends its employee list for check-ups: each employee gets an appointment within the dates, spread over the days and resources available.',
    schema: {
      type: 'object', additionalProperties: false, required: ['requestId', 'companyId', 'visitTypeId', 'branchId', 'from', 'to', 'employees'],
      properties: {
        requestId: id, companyId: id, visitTypeId: id, branchId: id, from: date, to: date,
        employees: {
          type: 'array', minItems: 1, maxItems: 5000,
          items: {
            type: 'object', additionalProperties: false, required: ['patientId'],
            properties: { patientId: id, timezone: text(60), language: { enum: ['vi', 'en'] } },
          },
        },
      },
    },
  },
  'com.medlab.pos.order-created': {
    topic: topics.posOrders,
    key: 'orderId',
    description: 'The POS opened an order for a visit (its amount in minor units; VND has none).',
    schema: {
      type: 'object', additionalProperties: false, required: ['orderId', 'appointmentId', 'amount'],
      properties: { orderId: id, appointmentId: uuid, amount: { type: 'integer', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    },
  },
  'com.medlab.pos.order-paid': {
    topic: topics.posOrders,
    key: 'orderId',
    description: 'The POS order was paid in full.',
    schema: {
      type: 'object', additionalProperties: false, required: ['orderId'],
      properties: { orderId: id, appointmentId: uuid, amount: { type: 'integer', minimum: 0 }, paidAt: instant },
    },
  },
  'com.medlab.pos.order-refunded': {
    topic: topics.posOrders,
    key: 'orderId',
    description: 'The POS order was refunded.',
    schema: {
      type: 'object', additionalProperties: false, required: ['orderId'],
      properties: { orderId: id, appointmentId: uuid, amount: { type: 'integer', minimum: 0 }, refundedAt: instant },
    },
  },
  'com.medlab.notification.requested': notificationRequested,
} as const;
