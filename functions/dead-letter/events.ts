// The dead-letter system's events: retries it queues for itself on dead-letter-retries, what it tells the
// bundle on dead-letter-events (alerts, the daily report), and notification requests for operators. None
// carries a letter's event data: ids, counts and reasons only.
import { notificationRequested } from '../shared/events/notification-request';

export const topics = {
  /** Retries due, one record per letter (key: letterId), taken by the retry consumer; KEDA scales on its lag. */
  retries: 'dead-letter-retries',
  /** Alerts and reports of the dead-letter system. */
  events: 'dead-letter-events',
} as const;

const uuid = { type: 'string', format: 'uuid' } as const;
const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
const count = { type: 'integer', minimum: 0 } as const;

export const alertKinds = ['retries-exhausted', 'volume-spike', 'oldest-unresolved', 'results-waiting'] as const;

export const events = {
  'com.medlab.dead-letter.retry-due': {
    topic: topics.retries, key: 'letterId',
    description: 'A dead letter whose failure can heal is due for its next automatic retry.',
    schema: {
      type: 'object', additionalProperties: false, required: ['letterId', 'retry'],
      properties: { letterId: uuid, retry: { type: 'integer', minimum: 1 } },
    },
  },
  'com.medlab.dead-letter.alert-raised': {
    topic: topics.events, key: 'alertKey',
    description: 'Operators should look: retries exhausted, a group\'s volume spiked, the oldest unresolved letter is too old, or a result event has waited too long.',
    schema: {
      type: 'object', additionalProperties: false, required: ['alertId', 'alertKey', 'kind', 'severity', 'summary'],
      properties: {
        alertId: uuid,
        // The condition (kind and what it is about): the same condition raised again has the same key.
        alertKey: text(300),
        kind: { enum: alertKinds },
        severity: { enum: ['warning', 'critical'] },
        summary: text(1000),
        system: text(100),
        fingerprint: text(64),
        letterId: uuid,
        count,
        oldestMinutes: count,
        runbook: text(300),
      },
    },
  },
  'com.medlab.dead-letter.daily-report': {
    topic: topics.events, key: 'day',
    description: 'Yesterday in dead letters: received, resolved, parked and discarded, by system, and what is still open.',
    schema: {
      type: 'object', additionalProperties: false, required: ['day', 'received', 'resolved', 'parked', 'discarded', 'open', 'bySystem'],
      properties: {
        day: { type: 'string', format: 'date' },
        received: count, resolved: count, parked: count, discarded: count, open: count,
        oldestOpenMinutes: { type: ['integer', 'null'], minimum: 0 },
        bySystem: {
          type: 'array', maxItems: 100,
          items: {
            type: 'object', additionalProperties: false, required: ['system', 'received', 'open'],
            properties: { system: text(100), received: count, open: count },
          },
        },
        topGroups: {
          type: 'array', maxItems: 10,
          items: {
            type: 'object', additionalProperties: false, required: ['fingerprint', 'count'],
            properties: { fingerprint: text(64), count, type: text(200), consumer: text(200), reason: text(500) },
          },
        },
      },
    },
  },
  'com.medlab.notification.requested': notificationRequested,
} as const;
