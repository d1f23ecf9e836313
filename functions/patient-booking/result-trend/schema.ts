// What result-trend accepts and answers: one LOINC code's results across a patient's visits, oldest first.
import { instant, loinc, patientId, uuid } from '../result-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['loinc'],
  properties: {
    loinc,
    /** Staff and services name the patient; a patient reads their own (may omit it). */
    patientId,
  },
} as const;

export const point = {
  type: 'object',
  additionalProperties: false,
  required: ['at', 'value', 'unit', 'interpretation', 'abnormal', 'reportId', 'accession', 'version'],
  properties: {
    /** When the sample was taken (the report's time when the result has none). */
    at: instant,
    /** null for a result that is not a number (then valueText says it). */
    value: { type: ['number', 'null'] },
    /** The LIS's own writing of the value ('<0.1', 'positive'). */
    valueText: { type: 'string' },
    /** As the lab reported it: never converted. */
    unit: { type: ['string', 'null'] },
    interpretation: { type: 'array', items: { type: 'string' } },
    abnormal: { type: 'boolean' },
    reportId: uuid,
    accession: { type: 'string' },
    version: { type: 'integer' },
    /** This point's unit differs from the point before: the values are not comparable as they stand. */
    unitChanged: { const: true },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['patientId', 'loinc', 'points', 'units', 'unitsDiffer'],
  properties: {
    patientId: { type: 'string' },
    loinc: { type: 'string' },
    points: { type: 'array', items: point },
    /** Every unit the points are in, in order of first use. */
    units: { type: 'array', items: { type: ['string', 'null'] } },
    /** More than one unit: shown as reported, not converted. */
    unitsDiffer: { type: 'boolean' },
  },
} as const;
