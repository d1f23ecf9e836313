// What result-detail accepts and answers: one report, FHIR-shaped, with its results, where its release
// stands, and what changed from the version released before it.
import { changes, diagnosticReport, observation, release, uuid } from '../result-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId'],
  properties: { reportId: uuid },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['report', 'observations', 'release', 'changes'],
  properties: {
    report: diagnosticReport,
    /** The shown version's results, in the report's order. */
    observations: { type: 'array', items: observation },
    release,
    changes,
  },
} as const;
