const id = { type: 'string', minLength: 1, maxLength: 100 } as const;

/** Longest range one request may fill, in calendar days (from and to included). */
export const MAX_DAYS = 92;

export const body = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId', 'serviceId', 'from', 'to', 'weekdays', 'times', 'capacity'],
  properties: {
    branchId: id,
    serviceId: id,
    /** First and last branch-local day to fill. */
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    /** ISO weekdays: 1 = Monday … 7 = Sunday. */
    weekdays: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 7 } },
    /** Branch-local start times, HH:MM (24-hour clock). */
    times: { type: 'array', minItems: 1, maxItems: 96, uniqueItems: true, items: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } },
    /** Defaults to the service's nominal duration. */
    durationMinutes: { type: 'integer', minimum: 5, maximum: 480 },
    capacity: { type: 'integer', minimum: 1, maximum: 500 },
  },
} as const;

export const summary = {
  type: 'object',
  required: ['created', 'skipped', 'slots'],
  properties: {
    /** Slots the template describes over the range. */
    slots: { type: 'integer' },
    /** New slots opened. */
    created: { type: 'integer' },
    /** Slots not opened: their start had passed, or the slot already existed (and was left as it was). */
    skipped: { type: 'integer' },
  },
} as const;
