// The dead-letter policy operators tune in knative/base/dead-letter/policy.yaml (a ConfigMap): automatic
// retries per KafkaSource, retention, alert thresholds. In a cluster the ConfigMap is mounted and
// DEAD_LETTER_POLICY_FILE names the file; on a laptop the manifest itself is read, so what an operator
// writes is what runs. A policy that does not hold together stops the function at start-up, naming the field.
// The Services mount it at /etc/dead-letter/policy.yaml, read by default in production.
import path from 'node:path';
import { policyFile } from '../shared/policy-file';
import type { JsonSchema } from '../shared/validate';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface Policy {
  retry: { default: RetryPolicy; sources: Record<string, RetryPolicy> };
  retention: { resolvedDays: number; discardedDays: number; parkedDays: number };
  alerts: {
    spike: { windowMinutes: number; factor: number; minimum: number };
    oldestUnresolvedMinutes: number;
    resultTopics: string[];
    resultWaitMinutes: number;
    repeatMinutes: number;
    team: string;
  };
}

const duration = { type: 'string', pattern: '^P(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)$' } as const;
const retryFields = { maxAttempts: { type: 'integer', minimum: 0, maximum: 100 }, backoff: duration, maxBackoff: duration } as const;
const days = { type: 'integer', minimum: 1, maximum: 365 } as const;
const minutes = { type: 'integer', minimum: 1, maximum: 100_000 } as const;

const schema = {
  type: 'object', additionalProperties: false, required: ['retry', 'retention', 'alerts'],
  properties: {
    retry: {
      type: 'object', additionalProperties: false, required: ['default'],
      properties: {
        default: { type: 'object', additionalProperties: false, required: ['maxAttempts', 'backoff', 'maxBackoff'], properties: retryFields },
        sources: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, properties: retryFields } },
      },
    },
    retention: {
      type: 'object', additionalProperties: false, required: ['resolvedDays', 'discardedDays', 'parkedDays'],
      properties: { resolvedDays: days, discardedDays: days, parkedDays: days },
    },
    alerts: {
      type: 'object', additionalProperties: false,
      required: ['spike', 'oldestUnresolvedMinutes', 'resultTopics', 'resultWaitMinutes', 'repeatMinutes', 'team'],
      properties: {
        spike: {
          type: 'object', additionalProperties: false, required: ['windowMinutes', 'factor', 'minimum'],
          properties: { windowMinutes: minutes, factor: { type: 'number', exclusiveMinimum: 1 }, minimum: { type: 'integer', minimum: 1 } },
        },
        oldestUnresolvedMinutes: minutes,
        resultTopics: { type: 'array', items: { type: 'string', minLength: 1 } },
        resultWaitMinutes: minutes,
        repeatMinutes: minutes,
        team: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

/** PT30S, PT10M, PT1H30M, PT0.5S → milliseconds (the ISO 8601 durations Knative's delivery specs use). */
export function durationMs(iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(iso);
  if (!m) throw new Error(`not a duration: ${iso}`);
  return Math.round(((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000);
}

type RawRetry = { maxAttempts?: number; backoff?: string; maxBackoff?: string };

function build(doc: unknown): Policy {
  const raw = doc as { retry: { default: Required<RawRetry>; sources?: Record<string, RawRetry> }; retention: Policy['retention']; alerts: Policy['alerts'] };
  const retry = (r: RawRetry, base?: RetryPolicy): RetryPolicy => ({
    maxAttempts: r.maxAttempts ?? base!.maxAttempts,
    backoffMs: r.backoff ? durationMs(r.backoff) : base!.backoffMs,
    maxBackoffMs: r.maxBackoff ? durationMs(r.maxBackoff) : base!.maxBackoffMs,
  });
  const byDefault = retry(raw.retry.default);
  const sources = Object.fromEntries(Object.entries(raw.retry.sources ?? {}).map(([name, r]) => [name, retry(r, byDefault)]));
  return { retry: { default: byDefault, sources }, retention: raw.retention, alerts: raw.alerts };
}

const file = policyFile({
  name: 'dead-letter', env: 'DEAD_LETTER_POLICY_FILE', mounted: '/etc/dead-letter/policy.yaml',
  manifest: path.join(__dirname, '..', '..', 'knative', 'base', 'dead-letter', 'policy.yaml'), schema: schema as JsonSchema, build,
});

/** Parses and checks a policy document (the ConfigMap's policy.yaml); errors name the field at fault. */
export const parsePolicy = file.parse;
/** The policy in force: the mounted file (DEAD_LETTER_POLICY_FILE), else the repository's manifest (laptops). */
export const policy = file.get;
/** Forget the loaded policy (tests that write their own file). */
export const reloadPolicy = file.reload;
/** Reads the policy now: a function that needs it refuses to start without it, naming what is wrong. */
export const assertPolicy = file.assert;

export function retryPolicyFor(kafkaSource: string | null): RetryPolicy {
  const p = policy().retry;
  return (kafkaSource && p.sources[kafkaSource]) || p.default;
}
