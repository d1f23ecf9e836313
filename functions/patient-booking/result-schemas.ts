// The shapes the results routes share (JSON Schemas: validation, types and /openapi.json come from these):
// ids, a page, a clinician's reason, and the FHIR-shaped DiagnosticReport and Observation as the portal reads them.
import { reportStatuses } from './events';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const patientId = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' } as const;
export const loinc = { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' } as const;
export const instant = { type: 'string', format: 'date-time' } as const;
const maybeInstant = { type: ['string', 'null'], format: 'date-time' } as const;
/** nextCursor of the previous page, as it was given. */
export const cursor = { type: 'string', minLength: 1, maxLength: 200 } as const;
export const limit = { type: 'integer', minimum: 1, maximum: 100, default: 20 } as const;
/** Why a clinician decided so: kept in the audit trail. */
export const reason = { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' } as const;
export const status = { enum: reportStatuses } as const;
export const releaseStates = ['pending', 'held', 'released', 'withheld'] as const;

const coding = {
  type: 'object', additionalProperties: false, required: ['system', 'code'],
  properties: { system: { type: 'string' }, code: { type: 'string' } },
} as const;

/** LOINC (when known) and the LIS's own code; text: the name. */
export const codeableConcept = {
  type: 'object', additionalProperties: false, required: ['coding'],
  properties: { coding: { type: 'array', items: coding }, text: { type: 'string' } },
} as const;

const quantity = {
  type: 'object', additionalProperties: false, required: ['value'],
  properties: { value: { type: 'number' }, unit: { type: 'string' }, comparator: { enum: ['<', '<=', '>', '>='] } },
} as const;

export const observation = {
  type: 'object', additionalProperties: false,
  required: ['resourceType', 'sequence', 'status', 'code', 'referenceRange', 'interpretation', 'abnormal'],
  properties: {
    resourceType: { const: 'Observation' },
    /** OBX-1: its place in the report. */
    sequence: { type: 'integer' },
    status,
    code: codeableConcept,
    /** A number (with the LIS's comparator, e.g. <0.1) … */
    valueQuantity: quantity,
    /** … or text (a coded or free-text result). */
    valueString: { type: 'string' },
    referenceRange: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { low: quantity, high: quantity, text: { type: 'string' } } },
    },
    /** HL7 abnormal flags (L, H, LL, HH, A, AA, N …), as FHIR ObservationInterpretation codes. */
    interpretation: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['coding'], properties: { coding: { type: 'array', items: coding } } } },
    /** A flag says it is outside its reference range (L, LL, H, HH, A, AA, <, >). */
    abnormal: { type: 'boolean' },
    effectiveDateTime: instant,
  },
} as const;

export const diagnosticReport = {
  type: 'object', additionalProperties: false,
  required: ['resourceType', 'id', 'meta', 'identifier', 'status', 'code', 'subject'],
  properties: {
    resourceType: { const: 'DiagnosticReport' },
    id: uuid,
    /** versionId: the version shown (1, then 2 … for amended or corrected reports). */
    meta: { type: 'object', additionalProperties: false, required: ['versionId'], properties: { versionId: { type: 'string' } } },
    /** The LIS accession (one visit's samples). */
    identifier: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['system', 'value'], properties: { system: { type: 'string' }, value: { type: 'string' } } } },
    status,
    code: codeableConcept,
    subject: { type: 'object', additionalProperties: false, required: ['reference'], properties: { reference: { type: 'string' } } },
    /** When the sample was taken. */
    effectiveDateTime: instant,
    /** When the lab issued the newest version (absent on an older version still shown). */
    issued: instant,
  },
} as const;

const side = {
  type: 'object', additionalProperties: false, required: ['value', 'unit', 'interpretation', 'referenceRange'],
  properties: {
    value: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'null' }] },
    unit: { type: ['string', 'null'] },
    interpretation: { type: 'array', items: { type: 'string' } },
    /** low-high, or the LIS's text. */
    referenceRange: { type: ['string', 'null'] },
  },
} as const;

/** What changed from the version released before the one shown; null when no earlier version was released. */
export const changes = {
  type: ['object', 'null'], additionalProperties: false, required: ['fromVersion', 'toVersion', 'observations'],
  properties: {
    fromVersion: { type: 'integer' },
    toVersion: { type: 'integer' },
    /** Only results that changed, were added or were removed. */
    observations: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['code', 'change'],
        properties: {
          code: codeableConcept,
          change: { enum: ['changed', 'added', 'removed'] },
          /** For changed: which of value, unit, interpretation, referenceRange. */
          fields: { type: 'array', items: { enum: ['value', 'unit', 'interpretation', 'referenceRange'] } },
          before: side,
          after: side,
        },
      },
    },
  },
} as const;

/** Where a report stands. Patients and services see only releasedAt; staff see the rest. */
export const release = {
  type: 'object', additionalProperties: false, required: ['releasedAt'],
  properties: {
    releasedAt: maybeInstant,
    state: { enum: releaseStates },
    releasedVersion: { type: ['integer', 'null'] },
    holdReason: { type: ['string', 'null'] },
    releaseDueAt: maybeInstant,
    critical: { type: 'boolean' },
    calledAt: maybeInstant,
    calledBy: { type: ['string', 'null'] },
  },
} as const;

/** A clinician's decision on a report (release, call, withhold): the report's state after it. */
export const decision = {
  type: 'object', additionalProperties: false, required: ['reportId', 'state', 'version', 'releasedVersion', 'releasedAt', 'critical', 'calledAt', 'calledBy'],
  properties: {
    reportId: uuid,
    state: { enum: releaseStates },
    version: { type: 'integer' },
    releasedVersion: { type: ['integer', 'null'] },
    releasedAt: maybeInstant,
    critical: { type: 'boolean' },
    calledAt: maybeInstant,
    calledBy: { type: ['string', 'null'] },
  },
} as const;

export const decisionOf = (r: { id: string; releaseState: string; version: number; releasedVersion: number | null; releasedAt: Date | null; critical: boolean; calledAt: Date | null; calledBy: string | null }) => ({
  reportId: r.id, state: r.releaseState, version: r.version, releasedVersion: r.releasedVersion,
  releasedAt: r.releasedAt?.toISOString() ?? null, critical: r.critical, calledAt: r.calledAt?.toISOString() ?? null, calledBy: r.calledBy,
});
