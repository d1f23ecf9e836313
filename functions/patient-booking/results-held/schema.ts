// What results-held accepts and answers: the clinicians' worklist of held reports, oldest first. Ids,
// codes, why and until when: no values (a clinician opens the report with result-detail, which is audited).
import { codeableConcept, instant, patientId, status, uuid } from '../result-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Only critical values (waiting for the call to the patient). */
    critical: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

const maybeInstant = { type: ['string', 'null'], format: 'date-time' } as const;

export const held = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'patientId', 'accession', 'code', 'status', 'version', 'holdReason', 'since', 'releaseDueAt', 'critical', 'releasedVersion'],
  properties: {
    reportId: uuid,
    patientId,
    accession: { type: 'string' },
    code: codeableConcept,
    status,
    version: { type: 'integer' },
    /** Why it waits: a sensitive test, a critical value. */
    holdReason: { type: ['string', 'null'] },
    /** Held since its version arrived. */
    since: instant,
    /** Released automatically at this time unless a clinician decides first (null: it waits for a clinician, e.g. a critical value). */
    releaseDueAt: maybeInstant,
    critical: { type: 'boolean' },
    /** An earlier version the patient already sees (an amendment being held), or null. */
    releasedVersion: { type: ['integer', 'null'] },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['held', 'more'],
  properties: {
    held: { type: 'array', items: held },
    /** More held reports than the limit: the oldest are shown. */
    more: { type: 'boolean' },
  },
} as const;
