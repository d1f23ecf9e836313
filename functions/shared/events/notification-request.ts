// notification.requested on notification-requests: what any system sends when someone should be told
// something. The notification system (issue 10) delivers it and will own this contract; the systems that
// emit it before then declare it through this one definition, so there is one schema for it in the bundle.
// The request names a template and its variables; the notification system chooses channels. Variables carry
// no health data: a text says where to look (the portal, the console), not what a result or an event says.

export const notificationRequestsTopic = 'notification-requests';

export const notificationRequested = {
  topic: notificationRequestsTopic,
  key: 'requestId',
  description: 'Someone (a patient, or operators) should be told something: a template, its variables, a category; the notification system picks the channels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['requestId', 'template', 'recipient', 'category'],
    properties: {
      requestId: { type: 'string', minLength: 1, maxLength: 200 },
      template: { type: 'string', minLength: 1, maxLength: 100 },
      // patient: one patient by id; operators: the on-call list of a team (e.g. platform).
      recipient: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { enum: ['patient', 'operators'] },
          patientId: { type: 'string', minLength: 1, maxLength: 100 },
          team: { type: 'string', minLength: 1, maxLength: 100 },
        },
      },
      category: { type: 'string', minLength: 1, maxLength: 60 },
      critical: { type: 'boolean' },
      variables: { type: 'object', additionalProperties: { anyOf: [{ type: 'string', maxLength: 2000 }, { type: 'number' }, { type: 'boolean' }] } },
    },
  },
} as const;
