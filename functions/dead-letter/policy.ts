// The dead-letter policy operators tune in knative/base/dead-letter/policy.yaml (a ConfigMap): automatic
// retries per KafkaSource, retention, alert thresholds. In a cluster the ConfigMap is mounted and
// DEAD_LETTER_POLICY_FILE names the file; on a laptop the manifest itself is read, so what an operator
// writes is what runs. A policy that does not hold together stops the function at start-up, naming the field.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { problemsOf } from '../shared/validate';

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

/** Parses and checks a policy document (the ConfigMap's policy.yaml); errors name the field at fault. */
export function parsePolicy(text: string, where: string): Policy {
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (err) {
    throw new Error(`${where}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const problems = problemsOf(schema, doc, 'policy');
  if (problems.length) throw new Error(`${where}: ${problems.map((p) => `${p.name} ${p.reason}`).join('; ')}`);
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

const MANIFEST = path.join(__dirname, '..', '..', 'knative', 'base', 'dead-letter', 'policy.yaml');

let loaded: Policy | undefined;

/** The policy in force: the mounted file (DEAD_LETTER_POLICY_FILE), else the repository's manifest (laptops). */
export function policy(): Policy {
  if (loaded) return loaded;
  const file = process.env.DEAD_LETTER_POLICY_FILE;
  if (file) return (loaded = parsePolicy(readFileSync(file, 'utf8'), file));
  if (process.env.NODE_ENV === 'production' || !existsSync(MANIFEST)) {
    throw new Error('DEAD_LETTER_POLICY_FILE must name the mounted dead-letter-policy ConfigMap (policy.yaml)');
  }
  const manifest = loadYaml(readFileSync(MANIFEST, 'utf8')) as { data?: Record<string, string> };
  if (typeof manifest?.data?.['policy.yaml'] !== 'string') throw new Error(`${MANIFEST}: data.policy.yaml is required`);
  return (loaded = parsePolicy(manifest.data['policy.yaml'], MANIFEST));
}

/** Forget the loaded policy (tests that write their own file). */
export function reloadPolicy(): void {
  loaded = undefined;
}

export function retryPolicyFor(kafkaSource: string | null): RetryPolicy {
  const p = policy().retry;
  return (kafkaSource && p.sources[kafkaSource]) || p.default;
}
