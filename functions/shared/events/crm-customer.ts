// The CRM's customers on crm-customers: the profile a system keeps a copy of (each system only the fields it
// needs), and erasure requests. Written outside the bundle; the notification and patient-booking systems
// consume it, so its contract is declared once here. Contacts are PHI: they live only in the copies that
// need them, never in logs or in events these systems emit.

export const crmCustomersTopic = 'crm-customers';

const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

export const customerUpdated = {
  topic: crmCustomersTopic,
  key: 'patientId',
  description: 'A customer was created or changed in the CRM: contacts, language, time zone, tier. version orders updates of one customer.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['patientId', 'version'],
    properties: {
      patientId: id,
      // Increases with every change of the customer in the CRM: an older update never overwrites a newer.
      version: { type: 'integer', minimum: 0 },
      email: { anyOf: [{ type: 'string', format: 'email', maxLength: 254 }, { type: 'null' }] },
      // E.164, e.g. +84901234567
      phone: { anyOf: [{ type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$' }, { type: 'null' }] },
      language: { enum: ['vi', 'en'] },
      timezone: { type: 'string', minLength: 1, maxLength: 60 },
      tier: { enum: ['standard', 'svip1', 'svip2'] },
      fullName: { type: 'string', maxLength: 200 },
      birthDate: { type: 'string', format: 'date' },
      sex: { enum: ['female', 'male', 'other', 'unknown'] },
    },
  },
} as const;

export const customerErased = {
  topic: crmCustomersTopic,
  key: 'patientId',
  description: 'The customer asked to be forgotten (GDPR erasure): every copy of their profile is anonymised.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['patientId', 'version'],
    properties: { patientId: id, version: { type: 'integer', minimum: 0 }, requestedAt: { type: 'string', format: 'date-time' } },
  },
} as const;
