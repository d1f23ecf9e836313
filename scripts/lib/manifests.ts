// Reads the operators' YAML (knative/, keda/) into typed records. The local runtime wires functions from
// these and nothing else, so what an operator writes is what runs on a laptop. A malformed document is an
// error naming the file and field, never silently skipped.
//
// It reads the documents as written, one file each, not as kustomize renders them: kustomization files are
// skipped, and so is a kustomize Component (knative/components/function), whose files are patches shared by
// every Service (port, probes, env, resources), none of which the laptop uses. `npm run manifests:check`
// checks the rendered base as well, so what the cluster gets is checked too.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FUNCTION_ANNOTATION = 'medlab.io/function';

export interface Doc {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

export interface ServiceManifest {
  name: string;
  file: string;
  /** Folder of the function, relative to the project root. */
  functionDir: string;
  system: string;
  annotations: Record<string, string>;
  doc: Doc;
}

export interface SinkRef {
  service?: string;
  /** With a service: a relative URI resolved against the Service's address (Knative's Destination ref + uri). */
  path?: string;
  uri?: string;
}

export interface Delivery {
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  backoffDelayMs: number;
  timeoutMs: number;
  deadLetterSink?: SinkRef;
}

export interface KafkaSourceManifest {
  name: string;
  namespace: string;
  file: string;
  topics: string[];
  consumerGroup: string;
  initialOffset: 'earliest' | 'latest';
  ordering: 'ordered' | 'unordered';
  consumers: number;
  bootstrapServers: string[];
  sink: SinkRef;
  delivery: Delivery;
  /** Whether the manifest spelled out a delivery spec (else the Kafka data plane defaults apply). */
  deliveryDeclared: boolean;
  doc: Doc;
}

export interface PingSourceManifest {
  name: string;
  namespace: string;
  file: string;
  schedule: string;
  timezone?: string;
  data?: string;
  contentType?: string;
  sink: SinkRef;
  doc: Doc;
}

export interface RouteRule {
  file: string;
  route: string;
  /** Index of the rule in spec.rules. */
  rule: number;
  path: string;
  pathType: 'Exact' | 'PathPrefix';
  method?: string;
  service: string;
}

export interface ScaledObjectManifest {
  name: string;
  file: string;
  target: { apiVersion?: string; kind?: string; name?: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  pollingIntervalS: number;
  cooldownPeriodS: number;
  kafka?: {
    bootstrapServers: string[];
    consumerGroup: string;
    topic: string;
    lagThreshold: number;
    activationLagThreshold: number;
    allowIdleConsumers: boolean;
  };
  doc: Doc;
}

export interface ManifestSet {
  docs: Doc[];
  services: ServiceManifest[];
  kafkaSources: KafkaSourceManifest[];
  pingSources: PingSourceManifest[];
  routes: RouteRule[];
  /** OPTIONS matches: the CORS preflights an HTTPRoute lets through, method = the access-control-request-method they match. */
  preflights: RouteRule[];
  scaledObjects: ScaledObjectManifest[];
}

/** KEDA's defaults for what a ScaledObject leaves out (keda.sh docs, kafka scaler). */
export const KEDA_DEFAULTS = { minReplicaCount: 0, maxReplicaCount: 100, pollingIntervalS: 30, cooldownPeriodS: 300, lagThreshold: 10, activationLagThreshold: 0 };

export class ManifestError extends Error {
  constructor(readonly file: string, readonly field: string, message: string) {
    super(`${path.relative(ROOT, file)}: ${field}: ${message}`);
  }
}

/** Knative's Kafka data plane defaults, used when a KafkaSource has no delivery spec. */
export const KAFKA_DELIVERY_DEFAULTS: Delivery = { retry: 10, backoffPolicy: 'exponential', backoffDelayMs: 300, timeoutMs: 600_000 };

const KUSTOMIZATION = /^kustomization\.ya?ml$/i;

/** A folder that holds a kustomize Component: patches for other documents, not documents of its own. */
function isComponent(dir: string): boolean {
  const file = readdirSync(dir).find((n) => KUSTOMIZATION.test(n));
  if (!file) return false;
  try {
    return (yaml.load(readFileSync(path.join(dir, file), 'utf8')) as { kind?: string } | null)?.kind === 'Component';
  } catch (err) {
    throw new ManifestError(path.join(dir, file), '(yaml)', (err as Error).message);
  }
}

function yamlFiles(dir: string): string[] {
  if (isComponent(dir)) return [];
  let out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    // keda/profiles holds traffic profiles for keda:simulate, not Kubernetes documents.
    if (statSync(full).isDirectory()) { if (name !== 'profiles') out = out.concat(yamlFiles(full)); }
    else if (/\.ya?ml$/.test(name) && !KUSTOMIZATION.test(name)) out.push(full);
  }
  return out;
}

/** The documents of one YAML text (a file, or what kustomize rendered); `file` is named in errors. */
export function parseDocs(text: string, file: string): Doc[] {
  let parsed: unknown[];
  try {
    parsed = yaml.loadAll(text);
  } catch (err) {
    throw new ManifestError(file, '(yaml)', (err as Error).message);
  }
  const docs: Doc[] = [];
  for (const d of parsed) {
    if (d === null || d === undefined) continue;
    const doc = d as Partial<Doc>;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new ManifestError(file, '(document)', 'is not a mapping');
    if (!doc.apiVersion) throw new ManifestError(file, 'apiVersion', 'is required');
    if (!doc.kind) throw new ManifestError(file, 'kind', 'is required');
    if (!doc.metadata?.name) throw new ManifestError(file, 'metadata.name', `is required (${doc.kind})`);
    docs.push({ ...(doc as Doc), file, spec: doc.spec ?? {} });
  }
  return docs;
}

export function loadDocs(dir: string): Doc[] {
  return yamlFiles(dir).flatMap((file) => parseDocs(readFileSync(file, 'utf8'), file));
}

/** ISO-8601 duration as Knative writes them (PT0.3S, PT10M, PT1H30M) → milliseconds. */
export function isoDurationMs(value: string, file: string, field: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) throw new ManifestError(file, field, `"${value}" is not an ISO-8601 duration like PT0.5S`);
  const [, d, h, min, s] = m.map((x) => (x ? Number(x) : 0));
  return Math.round(((d * 24 + h) * 60 + min) * 60_000 + s * 1000);
}

function sinkOf(value: any, file: string, field: string): SinkRef {
  if (!value) throw new ManifestError(file, field, 'is required');
  if (value.uri && !value.ref) return { uri: String(value.uri) };
  const ref = value.ref;
  if (!ref?.name) throw new ManifestError(file, `${field}.ref.name`, 'is required');
  if (ref.kind !== 'Service' || !String(ref.apiVersion ?? '').startsWith('serving.knative.dev/')) {
    throw new ManifestError(file, `${field}.ref`, 'must reference a Knative Service (serving.knative.dev/v1, kind Service)');
  }
  if (value.uri === undefined) return { service: String(ref.name) };
  // Knative resolves a uri beside a ref against the referenced address: it must be relative.
  const path = String(value.uri);
  if (!/^[/?]/.test(path)) throw new ManifestError(file, `${field}.uri`, `beside a ref it must be a relative URI (/… or ?…), not "${path}"`);
  return { service: String(ref.name), path };
}

function deliveryOf(spec: any, file: string, field: string): Delivery {
  if (!spec) return { ...KAFKA_DELIVERY_DEFAULTS };
  const retry = spec.retry ?? KAFKA_DELIVERY_DEFAULTS.retry;
  if (!Number.isInteger(retry) || retry < 0) throw new ManifestError(file, `${field}.retry`, 'must be a whole number ≥ 0');
  const policy = spec.backoffPolicy ?? 'exponential';
  if (policy !== 'exponential' && policy !== 'linear') throw new ManifestError(file, `${field}.backoffPolicy`, 'must be exponential or linear');
  return {
    retry,
    backoffPolicy: policy,
    backoffDelayMs: spec.backoffDelay ? isoDurationMs(spec.backoffDelay, file, `${field}.backoffDelay`) : KAFKA_DELIVERY_DEFAULTS.backoffDelayMs,
    timeoutMs: spec.timeout ? isoDurationMs(spec.timeout, file, `${field}.timeout`) : KAFKA_DELIVERY_DEFAULTS.timeoutMs,
    deadLetterSink: spec.deadLetterSink ? sinkOf(spec.deadLetterSink, file, `${field}.deadLetterSink`) : undefined,
  };
}

export function interpret(docs: Doc[]): ManifestSet {
  const set: ManifestSet = { docs, services: [], kafkaSources: [], pingSources: [], routes: [], preflights: [], scaledObjects: [] };
  for (const doc of docs) {
    const { file } = doc;
    const ns = doc.metadata.namespace ?? 'patient-portal';
    if (doc.kind === 'Service' && doc.apiVersion.startsWith('serving.knative.dev/')) {
      const functionDir = doc.metadata.annotations?.[FUNCTION_ANNOTATION];
      if (!functionDir) throw new ManifestError(file, `metadata.annotations.${FUNCTION_ANNOTATION}`, 'is required: the function folder this Service runs');
      const container = doc.spec?.template?.spec?.containers?.[0];
      if (!container) throw new ManifestError(file, 'spec.template.spec.containers[0]', 'is required');
      set.services.push({
        name: doc.metadata.name, file, functionDir, system: doc.metadata.labels?.['medlab.io/system'] ?? 'unknown',
        annotations: doc.spec?.template?.metadata?.annotations ?? {}, doc,
      });
    } else if (doc.kind === 'KafkaSource') {
      const s = doc.spec;
      if (!Array.isArray(s.topics) || !s.topics.length) throw new ManifestError(file, 'spec.topics', 'needs at least one topic');
      if (!s.consumerGroup) throw new ManifestError(file, 'spec.consumerGroup', 'is required');
      const initialOffset = s.initialOffset ?? 'latest';
      if (initialOffset !== 'earliest' && initialOffset !== 'latest') throw new ManifestError(file, 'spec.initialOffset', 'must be earliest or latest');
      const ordering = s.ordering ?? 'ordered';
      if (ordering !== 'ordered' && ordering !== 'unordered') throw new ManifestError(file, 'spec.ordering', 'must be ordered or unordered');
      set.kafkaSources.push({
        name: doc.metadata.name, namespace: ns, file, topics: s.topics.map(String), consumerGroup: String(s.consumerGroup),
        initialOffset, ordering, consumers: Number(s.consumers ?? 1),
        bootstrapServers: (s.bootstrapServers ?? []).map(String),
        sink: sinkOf(s.sink, file, 'spec.sink'),
        delivery: deliveryOf(s.delivery, file, 'spec.delivery'),
        deliveryDeclared: Boolean(s.delivery),
        doc,
      });
    } else if (doc.kind === 'PingSource') {
      const s = doc.spec;
      if (!s.schedule) throw new ManifestError(file, 'spec.schedule', 'is required');
      set.pingSources.push({
        name: doc.metadata.name, namespace: ns, file, schedule: String(s.schedule), timezone: s.timezone,
        data: s.data, contentType: s.contentType, sink: sinkOf(s.sink, file, 'spec.sink'), doc,
      });
    } else if (doc.kind === 'ScaledObject') {
      const s = doc.spec;
      const num = (v: unknown, field: string, dflt: number) => {
        if (v === undefined || v === null) return dflt;
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new ManifestError(file, field, `"${v}" is not a number ≥ 0`);
        return n;
      };
      const trigger = (s.triggers ?? []).find((t: any) => t?.type === 'kafka');
      const m = trigger?.metadata ?? {};
      set.scaledObjects.push({
        name: doc.metadata.name, file, target: s.scaleTargetRef ?? {},
        minReplicaCount: num(s.minReplicaCount, 'spec.minReplicaCount', KEDA_DEFAULTS.minReplicaCount),
        maxReplicaCount: num(s.maxReplicaCount, 'spec.maxReplicaCount', KEDA_DEFAULTS.maxReplicaCount),
        pollingIntervalS: num(s.pollingInterval, 'spec.pollingInterval', KEDA_DEFAULTS.pollingIntervalS),
        cooldownPeriodS: num(s.cooldownPeriod, 'spec.cooldownPeriod', KEDA_DEFAULTS.cooldownPeriodS),
        kafka: trigger ? {
          bootstrapServers: String(m.bootstrapServers ?? '').split(',').map((x) => x.trim()).filter(Boolean),
          consumerGroup: String(m.consumerGroup ?? ''),
          topic: String(m.topic ?? ''),
          lagThreshold: num(m.lagThreshold, 'spec.triggers[kafka].metadata.lagThreshold', KEDA_DEFAULTS.lagThreshold),
          activationLagThreshold: num(m.activationLagThreshold, 'spec.triggers[kafka].metadata.activationLagThreshold', KEDA_DEFAULTS.activationLagThreshold),
          allowIdleConsumers: String(m.allowIdleConsumers ?? 'false') === 'true',
        } : undefined,
        doc,
      });
    } else if (doc.kind === 'HTTPRoute') {
      (doc.spec.rules ?? []).forEach((rule: any, i: number) => {
        const backend = rule.backendRefs?.[0]?.name;
        if (!backend) throw new ManifestError(file, `spec.rules[${i}].backendRefs[0].name`, 'is required');
        for (const [j, match] of (rule.matches ?? []).entries()) {
          const p = match.path;
          if (!p?.value) throw new ManifestError(file, `spec.rules[${i}].matches[${j}].path.value`, 'is required');
          const at = { file, route: doc.metadata.name, rule: i, path: p.value, pathType: p.type ?? 'PathPrefix', service: String(backend) } as const;
          // A browser asks before a cross-origin call (OPTIONS with access-control-request-method); that match
          // routes the preflight, it is not an operation of the function.
          if (match.method === 'OPTIONS') {
            const asked = (match.headers ?? []).find((h: any) => String(h?.name).toLowerCase() === 'access-control-request-method')?.value;
            set.preflights.push({ ...at, method: asked ? String(asked).toUpperCase() : undefined });
          } else set.routes.push({ ...at, method: match.method });
        }
      });
    }
  }
  return set;
}

export const MANIFEST_DIRS = [path.join(ROOT, 'knative', 'base'), path.join(ROOT, 'keda')];

/** Reads knative/base and keda/ (or the folders given), as one set. */
export function loadManifests(dirs: string | string[] = MANIFEST_DIRS): ManifestSet {
  return interpret((Array.isArray(dirs) ? dirs : [dirs]).flatMap((d) => loadDocs(d)));
}
