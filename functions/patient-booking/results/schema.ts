// What results accepts and answers: a patient's reports, newest first a page at a time. Names, codes, dates
// and counts only: the values are read one report at a time (result-detail), where each read is audited.
import { codeableConcept, cursor, instant, limit, patientId, releaseStates, status, uuid } from '../result-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Staff and services name the patient; a patient reads their own (may omit it). */
    patientId,
    limit,
    cursor,
  },
} as const;

const maybeInstant = { type: ['string', 'null'], format: 'date-time' } as const;

export const summary = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'accession', 'code', 'status', 'version', 'effectiveAt', 'releasedAt', 'observationCount', 'abnormalCount'],
  properties: {
    reportId: uuid,
    accession: { type: 'string' },
    code: codeableConcept,
    /** FHIR DiagnosticReport.status of the version shown. */
    status,
    /** The version shown: for a patient the released one. */
    version: { type: 'integer' },
    /** When the sample was taken. */
    effectiveAt: maybeInstant,
    releasedAt: maybeInstant,
    observationCount: { type: 'integer', minimum: 0 },
    /** Results flagged outside their reference range (L, LL, H, HH, A, AA, <, >). */
    abnormalCount: { type: 'integer', minimum: 0 },
    /** Staff only: where its release stands. */
    releaseState: { enum: releaseStates },
    critical: { type: 'boolean' },
    holdReason: { type: ['string', 'null'] },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['patientId', 'results', 'nextCursor'],
  properties: {
    patientId: { type: 'string' },
    results: { type: 'array', items: summary },
    /** Pass as ?cursor= for the next page; null on the last page. */
    nextCursor: { type: ['string', 'null'] },
  },
} as const;
