// The release policy operators tune in knative/base/patient-booking/release-policy.yaml (a ConfigMap): which
// tests are sensitive (held for a clinician, released automatically after autoReleaseHours) and which values
// are critical (held until a clinician has called the patient, never released automatically). In a cluster
// the ConfigMap is mounted and PATIENT_BOOKING_RELEASE_POLICY_FILE names the file (default
// /etc/patient-booking-release/policy.yaml in production); on a laptop the manifest itself is read. A policy
// that does not hold together stops the function at start-up, naming the field.
import path from 'node:path';
import { policyFile } from '../shared/policy-file';
import type { JsonSchema } from '../shared/validate';

export interface CriticalLimit {
  /** The LIS's test code (OBX-3) or LOINC: one of the two names the test. */
  code?: string;
  loinc?: string;
  /** The unit the limits are in (UCUM, as OBX-6 writes it): only a value reported in it is compared. */
  unit: string;
  /** A value below low or above high is critical. */
  low?: number;
  high?: number;
}

export interface ReleasePolicy {
  sensitive: { categories: string[]; codes: string[]; loinc: string[]; autoReleaseHours: number };
  critical: { flags: string[]; limits: CriticalLimit[] };
}

const names = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 60 }, uniqueItems: true } as const;

const schema = {
  type: 'object', additionalProperties: false, required: ['sensitive', 'critical'],
  properties: {
    sensitive: {
      type: 'object', additionalProperties: false, required: ['autoReleaseHours'],
      properties: {
        categories: names, codes: names,
        loinc: { type: 'array', items: { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' }, uniqueItems: true },
        // At most two weeks: the patient has a right to their results without undue delay.
        autoReleaseHours: { type: 'integer', minimum: 1, maximum: 336 },
      },
    },
    critical: {
      type: 'object', additionalProperties: false, required: ['flags'],
      properties: {
        flags: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z<>_]{1,5}$' }, uniqueItems: true },
        limits: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['unit'],
            properties: {
              code: { type: 'string', minLength: 1, maxLength: 60 }, loinc: { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' },
              unit: { type: 'string', minLength: 1, maxLength: 40 }, low: { type: 'number' }, high: { type: 'number' },
            },
          },
        },
      },
    },
  },
} as const;

function build(doc: unknown): ReleasePolicy {
  const p = doc as { sensitive: Partial<ReleasePolicy['sensitive']> & { autoReleaseHours: number }; critical: Partial<ReleasePolicy['critical']> };
  p.critical.limits?.forEach((limit, i) => {
    if (limit.code === undefined && limit.loinc === undefined) throw new Error(`policy/critical/limits/${i} needs code or loinc (the test it limits)`);
    if (limit.low === undefined && limit.high === undefined) throw new Error(`policy/critical/limits/${i} needs low or high`);
    if (limit.low !== undefined && limit.high !== undefined && limit.low >= limit.high) throw new Error(`policy/critical/limits/${i}: low must be below high`);
  });
  return {
    sensitive: { categories: p.sensitive.categories ?? [], codes: p.sensitive.codes ?? [], loinc: p.sensitive.loinc ?? [], autoReleaseHours: p.sensitive.autoReleaseHours },
    critical: { flags: p.critical.flags ?? [], limits: p.critical.limits ?? [] },
  };
}

const file = policyFile({
  name: 'patient-booking-release', env: 'PATIENT_BOOKING_RELEASE_POLICY_FILE', mounted: '/etc/patient-booking-release/policy.yaml',
  manifest: path.join(__dirname, '..', '..', 'knative', 'base', 'patient-booking', 'release-policy.yaml'), schema: schema as JsonSchema, build,
});

/** Parses and checks a policy document (the ConfigMap's policy.yaml); errors name the field at fault. */
export const parseReleasePolicy = file.parse;
/** The policy in force: the mounted file, else the repository's manifest (laptops, tests). */
export const releasePolicy = file.get;
/** Forget the loaded policy (tests that write their own file). */
export const reloadReleasePolicy = file.reload;
/** Reads the policy now: a function that needs it refuses to start without it, naming what is wrong. */
export const assertReleasePolicy = file.assert;
