import { sampleStatuses } from '../events';

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId', 'accession'],
  properties: {
    appointmentId: { type: 'string', format: 'uuid' },
    // The LIS's accession number (ORC-3 filler order number / SAC-2), as printed on the sample's label.
    accession: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$' },
  },
} as const;

export const labOrder = {
  type: 'object',
  additionalProperties: false,
  required: ['accession', 'appointmentId', 'sampleStatus'],
  properties: {
    accession: { type: 'string' },
    appointmentId: { type: 'string', format: 'uuid' },
    sampleStatus: { enum: sampleStatuses },
    orderStatus: { type: 'string' },
    rejectReason: { type: 'string' },
    statusAt: { type: 'string', format: 'date-time' },
  },
} as const;
