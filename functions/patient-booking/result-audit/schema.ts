// What result-audit accepts and answers: a report's trail, oldest first (who, when, what, why, which version).
import { instant, uuid } from '../result-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId'],
  properties: { reportId: uuid },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'patientId', 'entries'],
  properties: {
    reportId: uuid,
    patientId: { type: 'string' },
    entries: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['at', 'action', 'actor', 'reason', 'version'],
        properties: {
          at: instant,
          /** received, held, released, auto-released, called, withheld, viewed, amended, detached, refused */
          action: { type: 'string' },
          /** staff:<id>, patient:<id>, service:<id>, system:<function> */
          actor: { type: 'string' },
          reason: { type: ['string', 'null'] },
          version: { type: ['integer', 'null'] },
        },
      },
    },
  },
} as const;
