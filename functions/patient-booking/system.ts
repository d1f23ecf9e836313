// The patient-booking system (seed pat--booking--be): what a patient sees of the lab. The test catalogue, a
// synced copy of the CRM's profile, explainable package recommendations, package bookings (placed with the
// booking queue through events), and lab results: HL7 v2 ORU^R01 from the LIS made into FHIR-shaped
// DiagnosticReports and Observations, routed by tier to lanes, released by rules with an audit trail. Its
// tables live in the PostgreSQL schema patient_booking.
import { defineSystem, type Emit } from '../shared/system';
import { events, topics } from './events';

export const system = defineSystem({
  name: 'patient-booking',
  seed: 'pat--booking--be',
  schema: 'patient_booking',
  events,
  externalTopics: {
    [topics.lisResults]: 'the LIS (HL7 v2.5.1 ORU^R01: results of an accession\'s tests)',
    [topics.catalogue]: 'the test master data source (tests with LOINC codes, units, ranges; packages and prices)',
  },
});

export type PatientBookingEmit = Emit<typeof events>;
