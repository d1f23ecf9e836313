// What appointment-detail answers: the visit with its resources, its timeline, its LIS and POS orders.
import { appointment, uuid } from '../schemas';
import { sampleStatuses } from '../events';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['appointmentId'],
  properties: { appointmentId: uuid },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['appointment', 'timeline', 'labOrders', 'posOrders'],
  properties: {
    appointment,
    timeline: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['at', 'kind', 'by', 'detail'],
        properties: { at: { type: 'string' }, kind: { type: 'string' }, by: { type: 'string' }, detail: { type: 'object' } },
      },
    },
    labOrders: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['accession', 'sampleStatus'],
        properties: { accession: { type: 'string' }, sampleStatus: { enum: sampleStatuses }, orderStatus: { type: 'string' }, rejectReason: { type: 'string' } },
      },
    },
    posOrders: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['orderId', 'status', 'amount', 'currency'],
        properties: { orderId: { type: 'string' }, status: { enum: ['created', 'paid', 'refunded'] }, amount: { type: 'integer' }, currency: { type: 'string' } },
      },
    },
  },
} as const;
