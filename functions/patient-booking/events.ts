// The patient-booking system's events. It reads the CRM's customers (crm-customers), the test master data
// (test-master-data), the booking queue's answers (booking-events), the appointment system's visits
// (appointment-events) and the LIS's results (lis-results, HL7 v2 ORU^R01 as it comes). It asks the booking
// queue for places (booking-requests), routes parsed results to a lane by the patient's tier
// (patient-results, -svip1, -svip2: its own topics, so a VIP's result never waits behind the standard
// backlog), tells the bundle a report was released (result-events) or a patient erased (patient-events),
// and asks for notifications (notification-requests).
//
// A lane is a topic, and in this bundle a CloudEvent type names its topic: so each lane has its own type
// (com.medlab.result.received, -svip1, -svip2) with one schema. Lane events carry the report's codes and
// values, because the lane consumer stores them; they never leave this system's topics. Every other event
// carries ids, codes and times only.
import { resultReleased } from '../shared/events/result-released';
import { customerErased, customerUpdated } from '../shared/events/crm-customer';
import { notificationRequested } from '../shared/events/notification-request';
import { events as queue } from '../booking-queue/events';
import { events as appointment } from '../appointment/events';

export const topics = {
  customers: 'crm-customers',
  catalogue: 'test-master-data',
  bookingRequests: 'booking-requests',
  bookingEvents: 'booking-events',
  appointmentEvents: 'appointment-events',
  lisResults: 'lis-results',
  lanes: { standard: 'patient-results', svip1: 'patient-results-svip1', svip2: 'patient-results-svip2' },
  results: 'result-events',
  patients: 'patient-events',
  notifications: 'notification-requests',
} as const;

export const tiers = ['standard', 'svip1', 'svip2'] as const;
export type Tier = (typeof tiers)[number];

/** FHIR DiagnosticReport.status and Observation.status. */
export const reportStatuses = ['registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error'] as const;

const uuid = { type: 'string', format: 'uuid' } as const;
const id = { type: 'string', minLength: 1, maxLength: 100 } as const;
const code = { type: 'string', minLength: 1, maxLength: 60 } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
const money = { type: 'integer', minimum: 0 } as const;

// ---- test-master-data: written by the master data source, declared here (its only consumer) ----

const testFacts = {
  code, version: { type: 'integer', minimum: 0 },
  loinc: { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' },
  name: text(200),
  // UCUM where the LIS uses it (mg/dL, mmol/L, %): a result in another unit is refused.
  unit: text(40),
  referenceRange: {
    type: 'object', additionalProperties: false,
    properties: { low: { type: 'number' }, high: { type: 'number' }, text: text(200) },
  },
  // e.g. hiv, genetic, tumour-marker: the release policy holds some categories for a clinician.
  category: text(60),
  priceVnd: money,
} as const;

const packageFacts = {
  code, version: { type: 'integer', minimum: 0 },
  name: text(200), description: text(1000),
  testCodes: { type: 'array', items: code, minItems: 1, maxItems: 100, uniqueItems: true },
  priceVnd: money,
  // The booking queue's service whose slots take this package's samples.
  serviceId: id,
  // Who the package is for (a cervical screening: female; a PSA: male over 50).
  sex: { enum: ['female', 'male'] },
  minAge: { type: 'integer', minimum: 0, maximum: 150 },
  maxAge: { type: 'integer', minimum: 0, maximum: 150 },
} as const;

// ---- lanes: one parsed ORU^R01 report, routed by the patient's tier ----

const observation = {
  type: 'object', additionalProperties: false,
  required: ['seq', 'code', 'valueType', 'status'],
  properties: {
    // OBX-1
    seq: { type: 'integer', minimum: 1 },
    // OBX-3: the LIS's code, and LOINC when the LIS sends it (or the catalogue knows it)
    code, loinc: { type: 'string', maxLength: 20 }, display: text(200),
    // OBX-2: NM numeric, ST/TX text, CWE/CE coded, SN structured numeric
    valueType: { type: 'string', maxLength: 3 },
    value: { anyOf: [{ type: 'number' }, text(2000), { type: 'null' }] },
    // OBX-5 as the LIS wrote it, for values that are not plain numbers ('<0.1', '>1000')
    valueText: text(200),
    unit: text(40),
    // OBX-7
    referenceRange: {
      type: 'object', additionalProperties: false,
      properties: { low: { type: 'number' }, high: { type: 'number' }, text: text(200) },
    },
    // OBX-8 abnormal flags (HL7 table 0078: L, H, LL, HH, A, AA, N …)
    interpretation: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 5 },
    // OBX-11 as FHIR Observation.status
    status: { enum: reportStatuses },
    effectiveAt: instant,
  },
} as const;

const resultReceived = (topic: string, lane: string) => ({
  topic,
  key: 'accession',
  description: `A report from the LIS (one ORU^R01 OBR with its OBX), parsed and matched to its patient and order, on the ${lane} lane: the lane consumer stores it and applies the release rules.`,
  schema: {
    type: 'object', additionalProperties: false,
    required: ['patientId', 'accession', 'tier', 'message', 'report', 'receivedAt'],
    properties: {
      patientId: id,
      // OBR-3 filler order number: the LIS's accession (one visit's samples)
      accession: id,
      // OBR-2 placer order number, as the clinic entered it
      orderNumber: id,
      packageBookingId: uuid,
      appointmentId: uuid,
      tier: { enum: tiers },
      // Which HL7 message it came from: sender (MSH-3|MSH-4), control id (MSH-10), and the OBR's place in it.
      message: {
        type: 'object', additionalProperties: false, required: ['sender', 'controlId', 'index'],
        properties: { sender: text(200), controlId: text(199), index: { type: 'integer', minimum: 1 } },
      },
      report: {
        type: 'object', additionalProperties: false,
        required: ['code', 'status', 'observations'],
        properties: {
          // OBR-4 universal service id: the panel (the LIS's code; LOINC when sent)
          code, loinc: { type: 'string', maxLength: 20 }, display: text(200),
          // OBR-25 as FHIR DiagnosticReport.status
          status: { enum: reportStatuses },
          // OBR-7 observation time (the sample), OBR-22 results reported
          effectiveAt: instant, issuedAt: instant,
          // OBR-27 priority (routine, urgent, stat): clinical priority, not the commercial tier
          priority: { enum: ['routine', 'urgent', 'asap', 'stat'] },
          observations: { type: 'array', items: observation, maxItems: 200 },
        },
      },
      receivedAt: instant,
    },
  },
}) as const;

export const events = {
  'com.medlab.catalogue.test-upserted': {
    topic: topics.catalogue, key: 'code',
    description: 'The master data source created or changed a test (LOINC code, unit, reference range, category, price); version orders changes of one test.',
    schema: { type: 'object', additionalProperties: false, required: ['code', 'version', 'name'], properties: testFacts },
  },
  'com.medlab.catalogue.test-withdrawn': {
    topic: topics.catalogue, key: 'code',
    description: 'A test is no longer offered: it stops being bookable; results that name it keep it.',
    schema: { type: 'object', additionalProperties: false, required: ['code', 'version'], properties: { code, version: { type: 'integer', minimum: 0 }, withdrawnAt: instant } },
  },
  'com.medlab.catalogue.package-upserted': {
    topic: topics.catalogue, key: 'code',
    description: 'A test package was created or changed (its tests, price, the booking queue service that takes it, who it is for).',
    schema: { type: 'object', additionalProperties: false, required: ['code', 'version', 'name', 'testCodes', 'priceVnd', 'serviceId'], properties: packageFacts },
  },
  'com.medlab.catalogue.package-withdrawn': {
    topic: topics.catalogue, key: 'code',
    description: 'A package is no longer offered: it stops being bookable; bookings made keep it.',
    schema: { type: 'object', additionalProperties: false, required: ['code', 'version'], properties: { code, version: { type: 'integer', minimum: 0 }, withdrawnAt: instant } },
  },
  'com.medlab.crm.customer-updated': customerUpdated,
  'com.medlab.crm.customer-erased': customerErased,
  'com.medlab.patient.erased': {
    topic: topics.patients, key: 'patientId',
    description: 'patient-booking anonymised a patient\'s profile and detached their results (a GDPR erasure from the CRM): systems that keep patient data erase theirs.',
    schema: { type: 'object', additionalProperties: false, required: ['patientId', 'erasedAt'], properties: { patientId: id, erasedAt: instant } },
  },
  'com.medlab.result.received': resultReceived(topics.lanes.standard, 'standard'),
  'com.medlab.result.received-svip1': resultReceived(topics.lanes.svip1, 'SVIP1'),
  'com.medlab.result.received-svip2': resultReceived(topics.lanes.svip2, 'SVIP2'),
  'com.medlab.result.released': resultReleased,
  // What this system asks of the booking queue, and the answers it follows.
  'com.medlab.booking.requested': queue['com.medlab.booking.requested'],
  'com.medlab.booking.cancel-requested': queue['com.medlab.booking.cancel-requested'],
  'com.medlab.booking.confirmed': queue['com.medlab.booking.confirmed'],
  'com.medlab.booking.pending': queue['com.medlab.booking.pending'],
  'com.medlab.booking.rejected': queue['com.medlab.booking.rejected'],
  'com.medlab.booking.cancelled': queue['com.medlab.booking.cancelled'],
  'com.medlab.booking.rescheduled': queue['com.medlab.booking.rescheduled'],
  'com.medlab.booking.status-changed': queue['com.medlab.booking.status-changed'],
  // Also on booking-events, and of no interest here: the booking consumer answers them 200 and moves on (a
  // KafkaSource cannot filter by type, and a refusal would dead-letter every one).
  'com.medlab.slot.allocated': queue['com.medlab.slot.allocated'],
  'com.medlab.slot.released': queue['com.medlab.slot.released'],
  // The appointment system's visits: where results of a clinical visit belong.
  'com.medlab.appointment.booked': appointment['com.medlab.appointment.booked'],
  'com.medlab.appointment.changed': appointment['com.medlab.appointment.changed'],
  'com.medlab.appointment.cancelled': appointment['com.medlab.appointment.cancelled'],
  'com.medlab.appointment.status-changed': appointment['com.medlab.appointment.status-changed'],
  'com.medlab.appointment.sample-status-changed': appointment['com.medlab.appointment.sample-status-changed'],
  // Also on appointment-events, and of no interest here (answered 200, as above).
  'com.medlab.appointment.held': appointment['com.medlab.appointment.held'],
  'com.medlab.appointment.payment-changed': appointment['com.medlab.appointment.payment-changed'],
  'com.medlab.appointment.reminder-due': appointment['com.medlab.appointment.reminder-due'],
  'com.medlab.checkup.scheduled': appointment['com.medlab.checkup.scheduled'],
  'com.medlab.notification.requested': notificationRequested,
} as const;
