// What GET /api/packages accepts and answers (JSON Schemas: validation, types and /openapi.json come from these).
export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** Only packages holding this test (the catalogue's code, or its LOINC code). */
    test: { type: 'string', minLength: 1, maxLength: 60 },
    /** Only packages a patient of this sex may book (packages for anyone included). */
    sex: { enum: ['female', 'male'] },
    /** Only packages a patient of this age may book. */
    age: { type: 'integer', minimum: 0, maximum: 150 },
  },
} as const;

const nullable = <const S extends object>(s: S) => ({ anyOf: [s, { type: 'null' }] }) as const;

export const testView = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'loinc', 'name', 'unit', 'referenceRange'],
  properties: {
    code: { type: 'string' },
    loinc: nullable({ type: 'string' }),
    name: { type: 'string' },
    unit: nullable({ type: 'string' }),
    referenceRange: nullable({
      type: 'object', additionalProperties: false,
      properties: { low: { type: 'number' }, high: { type: 'number' }, text: { type: 'string' } },
    }),
  },
} as const;

export const packageView = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name', 'description', 'priceVnd', 'serviceId', 'sex', 'minAge', 'maxAge', 'tests'],
  properties: {
    code: { type: 'string' },
    name: { type: 'string' },
    description: nullable({ type: 'string' }),
    priceVnd: { type: 'integer' },
    /** The booking queue's service whose slots take this package (GET /api/availability?serviceId=…). */
    serviceId: { type: 'string' },
    sex: nullable({ enum: ['female', 'male'] }),
    minAge: nullable({ type: 'integer' }),
    maxAge: nullable({ type: 'integer' }),
    tests: { type: 'array', items: testView },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['packages'],
  properties: { packages: { type: 'array', items: packageView } },
} as const;
