// result.released on result-events: a patient may now see a lab report. patient-booking emits it (its lane
// consumers and release rules); the notification system, which tells the patient, and patient-booking's own
// recommendations consume it, so both declare it through this one definition. Ids and codes only: no test
// name, value or diagnosis (the patient reads those in the portal, after signing in).

export const resultEventsTopic = 'result-events';

export const resultReleased = {
  topic: resultEventsTopic,
  key: 'patientId',
  description: 'A lab report was released to its patient (final, or amended/corrected after an earlier release).',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['reportId', 'patientId', 'accession', 'status', 'releasedAt'],
    properties: {
      reportId: { type: 'string', minLength: 1, maxLength: 100 },
      patientId: { type: 'string', minLength: 1, maxLength: 100 },
      // The LIS accession (one visit's samples): reports of one accession released together make one notice.
      accession: { type: 'string', minLength: 1, maxLength: 100 },
      // FHIR DiagnosticReport.status at release: final, or amended/corrected (an update of a released report).
      status: { enum: ['final', 'amended', 'corrected', 'preliminary'] },
      releasedAt: { type: 'string', format: 'date-time' },
      // A clinician asks the patient to call (a critical value was phoned through): the notice bypasses quiet hours.
      critical: { type: 'boolean' },
    },
  },
} as const;
