// The checks behind `npm run manifests:check`: every document against its CRD schema, then the
// cross-checks that keep knative/ and keda/ consistent with the code. Each finding names file and field.
// The documents are checked as written (what the local runtime hosts) and, given kubectl, as kustomize
// renders them (what the cluster gets: the function Component's port, probes and env applied).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import yaml from 'js-yaml';
import Ajv from 'ajv';
import { interpret, loadDocs, parseDocs, ManifestError, ROOT, type Doc, type ManifestSet } from './manifests';
import { loadFunctionModule, kindOf, type FunctionKind } from './runtime/host';
import { eventTypes, externalTopics } from '../../functions/shared/events/catalogue';

/** The Service every KafkaSource dead-letters to. */
const DEAD_LETTER_INTAKE = 'dead-letter-intake';

export interface Finding {
  file: string;
  field: string;
  message: string;
}

export interface CheckOptions {
  /** Folders of YAML to read (default knative/base, keda and knative/observability). */
  dirs?: string[];
  /** Folder of the function sources (default functions/). */
  functionsDir?: string;
  /** Secret key contract (default knative/secret-keys.yaml). */
  secretKeysFile?: string;
  /**
   * kubectl, to render each folder that has a kustomization.yaml. The checks of what only the rendered
   * Services hold (probes, Secret and ConfigMap keys, their full schema) run only with it.
   */
  kubectl?: string;
}

const rel = (file: string) => path.relative(ROOT, file);

// KafkaSource (sources.knative.dev/v1beta1) has no typed model; its schema, from the CRD's documented fields.
const destination = {
  type: 'object',
  properties: {
    ref: { type: 'object', required: ['kind', 'name', 'apiVersion'], properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string' } }, additionalProperties: false },
    uri: { type: 'string' },
    CACerts: { type: 'string' },
    audience: { type: 'string' },
  },
  additionalProperties: false,
  anyOf: [{ required: ['ref'] }, { required: ['uri'] }],
};
const kafkaSourceSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'sources.knative.dev/v1beta1' },
    kind: { const: 'KafkaSource' },
    metadata: { type: 'object', required: ['name'] },
    spec: {
      type: 'object',
      required: ['bootstrapServers', 'topics', 'sink'],
      additionalProperties: false,
      properties: {
        bootstrapServers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        consumerGroup: { type: 'string', minLength: 1 },
        consumers: { type: 'integer', minimum: 1 },
        initialOffset: { enum: ['earliest', 'latest'] },
        ordering: { enum: ['ordered', 'unordered'] },
        net: { type: 'object' },
        ceOverrides: { type: 'object' },
        delivery: {
          type: 'object',
          additionalProperties: false,
          properties: {
            retry: { type: 'integer', minimum: 0 },
            backoffPolicy: { enum: ['exponential', 'linear'] },
            backoffDelay: { type: 'string', pattern: '^P' },
            timeout: { type: 'string', pattern: '^P' },
            retryAfterMax: { type: 'string', pattern: '^P' },
            deadLetterSink: destination,
          },
        },
        sink: destination,
      },
    },
  },
};
const ajv = new Ajv({ allErrors: true, strict: false });
const validateKafkaSource = ajv.compile(kafkaSourceSchema);

/** A schema problem: where (path in the document) and what. */
type Validator = (doc: Doc) => Array<{ path: Array<string | number>; message: string }>;

const problemPath = (instancePath: string) => instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));

async function schemaValidators(): Promise<Record<string, Validator>> {
  const model = (Model: any): Validator => (doc) => {
    const { file: _f, ...plain } = doc as Doc & Record<string, unknown>;
    try {
      new Model(plain).validate();
      return [];
    } catch (err: any) {
      return (err.errors ?? [{ instancePath: '', message: err.message }]).map((e: any) => ({
        path: problemPath(e.instancePath),
        message: `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(document)'} ${e.message}${e.params?.missingProperty ? ` (${e.params.missingProperty})` : ''}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}`,
      }));
    }
  };
  const { Service } = await import('@kubernetes-models/knative/serving.knative.dev/v1/Service');
  const { PingSource } = await import('@kubernetes-models/knative/sources.knative.dev/v1/PingSource');
  const { ScaledObject } = await import('@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject');
  const { HTTPRoute } = await import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute');
  const { ConfigMap } = await import('kubernetes-models/v1/ConfigMap');
  const { Service: CoreService } = await import('kubernetes-models/v1/Service');
  const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
  return {
    'serving.knative.dev/v1/Service': model(Service),
    'sources.knative.dev/v1/PingSource': model(PingSource),
    'keda.sh/v1alpha1/ScaledObject': model(ScaledObject),
    'gateway.networking.k8s.io/v1/HTTPRoute': model(HTTPRoute),
    'v1/ConfigMap': model(ConfigMap),
    'v1/Service': model(CoreService),
    'apps/v1/Deployment': model(Deployment),
    // prometheus-operator's kinds (knative/observability/metrics): no typed model is installed, so the fields
    // Prometheus needs are checked by hand.
    'monitoring.coreos.com/v1/PodMonitor': (doc) => {
      const endpoints = doc.spec?.podMetricsEndpoints;
      if (!doc.spec?.selector) return [{ path: ['spec', 'selector'], message: 'spec.selector is required (which pods to scrape)' }];
      if (!Array.isArray(endpoints) || !endpoints.length) return [{ path: ['spec', 'podMetricsEndpoints'], message: 'spec.podMetricsEndpoints must list at least one endpoint' }];
      return endpoints.flatMap((e: any, i: number) => (e?.port || e?.targetPort ? [] : [{ path: ['spec', 'podMetricsEndpoints', i], message: `spec.podMetricsEndpoints[${i}] names no port` }]));
    },
    'monitoring.coreos.com/v1/PrometheusRule': (doc) => {
      const groups = doc.spec?.groups;
      if (!Array.isArray(groups) || !groups.length) return [{ path: ['spec', 'groups'], message: 'spec.groups must list at least one group' }];
      return groups.flatMap((g: any, i: number) => (Array.isArray(g?.rules) && g.rules.every((r: any) => typeof r?.expr === 'string' && (r.alert || r.record))
        ? [] : [{ path: ['spec', 'groups', i], message: `spec.groups[${i}] needs rules, each with expr and alert or record` }]));
    },
    'sources.knative.dev/v1beta1/KafkaSource': (doc) => {
      const { file: _f, ...plain } = doc as Doc & Record<string, unknown>;
      if (validateKafkaSource(plain)) return [];
      return (validateKafkaSource.errors ?? []).map((e) => ({
        path: problemPath(e.instancePath),
        message: `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(document)'} ${e.message}${(e.params as any)?.additionalProperty ? ` (${(e.params as any).additionalProperty})` : ''}`,
      }));
    },
  };
}

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** What every function's pods carry so Prometheus scrapes /metrics on the user container (the function Component sets them). */
export const SCRAPE_ANNOTATIONS = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' } as const;
const AUTOSCALING = 'autoscaling.knative.dev/';

/** Folders under functions/ that hold a function (an index.ts), e.g. functions/booking-queue/book-slot. */
export function functionFolders(functionsDir = path.join(ROOT, 'functions')): string[] {
  const out: string[] = [];
  for (const system of readdirSync(functionsDir, { withFileTypes: true })) {
    if (!system.isDirectory() || system.name === 'shared') continue;
    for (const fn of readdirSync(path.join(functionsDir, system.name), { withFileTypes: true })) {
      if (fn.isDirectory() && existsSync(path.join(functionsDir, system.name, fn.name, 'index.ts'))) {
        out.push(path.relative(ROOT, path.join(functionsDir, system.name, fn.name)));
      }
    }
  }
  return out.sort();
}

/** CloudEvent types some function emits (emit('type', …) in the function sources). */
export function emittedTypes(functionsDir = path.join(ROOT, 'functions')): Set<string> {
  const types = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'generated' && e.name !== 'shared') walk(full); continue; }
      if (!e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
      for (const m of readFileSync(full, 'utf8').matchAll(/emit\(\s*'([^']+)'/g)) types.add(m[1]);
    }
  };
  walk(functionsDir);
  return types;
}

/** The most rules one HTTPRoute may hold (Gateway API, HTTPRouteSpec.rules maxItems). */
export const HTTPROUTE_MAX_RULES = 16;
export const VISIBILITY_LABEL = 'networking.knative.dev/visibility';

const KUSTOMIZATION = 'kustomization.yaml';
const key = (d: Doc) => `${d.apiVersion}/${d.kind}/${d.metadata.name}`;
const at = (segments: Array<string | number>) => segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');

function valueAt(doc: unknown, segments: Array<string | number>): unknown {
  let v: any = doc;
  for (const s of segments) v = v?.[s];
  return v;
}

/** The patch files of the kustomize Components a kustomization applies (e.g. knative/components/function/function.yaml). */
function componentPatchFiles(kustomizationDir: string): string[] {
  const k = yaml.load(readFileSync(path.join(kustomizationDir, KUSTOMIZATION), 'utf8')) as { components?: string[] } | null;
  return (k?.components ?? []).flatMap((c) => {
    const dir = path.resolve(kustomizationDir, c);
    const ck = yaml.load(readFileSync(path.join(dir, KUSTOMIZATION), 'utf8')) as { patches?: Array<{ path?: string }> } | null;
    const files = (ck?.patches ?? []).filter((x) => x.path).map((x) => path.join(dir, x.path!));
    return files.length ? files : [path.join(dir, KUSTOMIZATION)];
  });
}

/**
 * Where the source sets something kustomize replaced when rendering (a Component's JSON patch "add" replaces
 * what is there): leaf paths whose rendered value differs. A list item with a name that changed is one
 * finding (env[0] (EXTRA)), not one per field.
 */
function replacedByRender(source: unknown, rendered: unknown, segments: Array<string | number> = []): Array<{ path: Array<string | number>; from: unknown; to: unknown }> {
  if (Array.isArray(source)) {
    return source.flatMap((item, i) => {
      const out = Array.isArray(rendered) ? rendered[i] : undefined;
      if (item && typeof item === 'object' && 'name' in item && out?.name !== item.name) return [{ path: [...segments, i], from: item, to: out }];
      return replacedByRender(item, out, [...segments, i]);
    });
  }
  if (source && typeof source === 'object') {
    return Object.entries(source).flatMap(([k, v]) => (segments.length === 0 && k === 'file' ? [] : replacedByRender(v, (rendered as any)?.[k], [...segments, k])));
  }
  return source === rendered ? [] : [{ path: segments, from: source, to: rendered }];
}

interface Rendered {
  /** The rendered documents, each with `file` set to the source file that declares it. */
  docs: Doc[];
  /** Source document of each rendered one (by apiVersion/kind/name). */
  source: Map<Doc, Doc>;
  /** Files of the Components applied, where a field no source file sets comes from. */
  components: string[];
}

/** Renders each folder that has a kustomization.yaml with `kubectl kustomize`: what the cluster gets. */
function render(kubectl: string, dirs: string[], sourceDocs: Doc[], find: (file: string, field: string, message: string) => void): Rendered {
  const rendered: Rendered = { docs: [], source: new Map(), components: [] };
  for (const dir of dirs) {
    const kustomization = path.join(dir, KUSTOMIZATION);
    if (!existsSync(kustomization)) continue;
    // A folder checked as a root of its own (knative/observability/metrics) is rendered by itself.
    const inside = (d: string, file: string) => file.startsWith(d + path.sep);
    const under = sourceDocs.filter((d) => inside(dir, d.file) && !dirs.some((other) => other !== dir && inside(dir, other) && inside(other, d.file)));
    // ConfigMaps a configMapGenerator makes from files (a Grafana dashboard) have no YAML of their own.
    const generated = new Set(((yaml.load(readFileSync(kustomization, 'utf8')) as { configMapGenerator?: Array<{ name?: string }> } | null)?.configMapGenerator ?? []).map((g) => g.name));
    const sources = new Map(under.map((d) => [key(d), d]));
    const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
    if (r.status !== 0) { find(kustomization, '(render)', (r.stderr || r.error?.message || 'kubectl kustomize failed').trim()); continue; }
    rendered.components.push(...componentPatchFiles(dir));
    const docs = parseDocs(r.stdout, kustomization);
    const keys = new Set(docs.map(key));
    for (const doc of docs) {
      const source = sources.get(key(doc));
      if (!source && doc.kind === 'ConfigMap' && generated.has(doc.metadata.name)) continue;
      if (!source) { find(kustomization, 'resources', `renders ${doc.kind} ${doc.metadata.name}, which no YAML file under ${rel(dir)} declares, so the local runtime does not run it`); continue; }
      rendered.docs.push({ ...doc, file: source.file });
      rendered.source.set(rendered.docs.at(-1)!, source);
    }
    for (const source of under) {
      if (keys.has(key(source))) continue;
      find(source.file, 'metadata.name', `${source.kind} ${source.metadata.name} is in no kustomization, so the cluster never gets it: list ${path.basename(source.file)} in ${rel(path.join(path.dirname(source.file), KUSTOMIZATION))} (resources)`);
    }
  }
  return rendered;
}

export async function checkManifests(options: CheckOptions = {}): Promise<{ findings: Finding[]; set?: ManifestSet }> {
  const dirs = options.dirs ?? [path.join(ROOT, 'knative', 'base'), path.join(ROOT, 'keda'), path.join(ROOT, 'knative', 'observability'), path.join(ROOT, 'knative', 'observability', 'metrics')];
  const findings: Finding[] = [];
  const find = (file: string, field: string, message: string) => findings.push({ file: rel(file), field, message });
  const done = () => findings.filter((f, i) => findings.findIndex((g) => g.file === f.file && g.field === f.field && g.message === f.message) === i);
  const fromManifestError = (err: ManifestError): Finding => ({ file: rel(err.file), field: err.field, message: err.message.split(': ').slice(2).join(': ') });

  let docs: Doc[];
  try {
    docs = dirs.flatMap((d) => loadDocs(d));
  } catch (err) {
    if (err instanceof ManifestError) return { findings: [fromManifestError(err)] };
    throw err;
  }

  // 0. What the cluster gets: the folders rendered by kustomize (the function Component applied). Without
  //    kubectl (npm start) the checks that need it are left to manifests:check.
  let rendered: Rendered | undefined;
  try {
    rendered = options.kubectl ? render(options.kubectl, dirs, docs, find) : undefined;
  } catch (err) {
    if (err instanceof ManifestError) return { findings: [...findings, fromManifestError(err)] };
    throw err;
  }
  /** The file that sets a field of a rendered document: its own file, or the Component that added it. */
  const setBy = (doc: Doc, segments: Array<string | number>): string => {
    const source = rendered?.source.get(doc);
    if (!source || valueAt(source, segments) !== undefined || !rendered!.components.length) return doc.file;
    return rendered!.components[0];
  };

  // 1. Each document against the schema of its kind, as rendered when it can be.
  const validators = await schemaValidators();
  for (const doc of docs) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    if (!validators[key]) find(doc.file, 'apiVersion/kind', `${key} is not a kind this bundle deploys (Service, KafkaSource, PingSource, ScaledObject, HTTPRoute, ConfigMap, Deployment, PodMonitor, PrometheusRule)`);
    if (!DNS_1035.test(doc.metadata.name) || doc.metadata.name.length > 63) {
      find(doc.file, 'metadata.name', `"${doc.metadata.name}" must be a DNS-1035 label (lowercase letters, digits, '-', starting with a letter) of at most 63 characters`);
    }
  }
  for (const doc of rendered?.docs ?? docs) {
    const validate = validators[`${doc.apiVersion}/${doc.kind}`];
    if (!validate) continue;
    for (const problem of validate(doc)) find(setBy(doc, problem.path), `${doc.kind} ${doc.metadata.name}`, `schema: ${problem.message}`);
  }

  // 1b. Kustomize must not replace what a source file says (a Component's "add" overwrites a Service's own value).
  for (const doc of rendered?.docs ?? []) {
    for (const r of replacedByRender(rendered!.source.get(doc), doc)) {
      const by = doc.kind === 'Service' && rendered!.components.length ? ` (${rendered!.components.map(rel).join(', ')} sets it for every Service)` : '';
      find(doc.file, at(r.path), `${JSON.stringify(r.from)} is replaced by ${JSON.stringify(r.to) ?? 'nothing'} when kustomize renders it${by}: leave it out here, or change it there`);
    }
  }

  let set: ManifestSet;
  try {
    set = interpret(docs);
  } catch (err) {
    if (err instanceof ManifestError) return { findings: [...done(), fromManifestError(err)] };
    throw err;
  }

  // 2. Every function has exactly one Service, every Service a function.
  const folders = functionFolders(options.functionsDir);
  for (const folder of folders) {
    const owners = set.services.filter((s) => s.functionDir === folder);
    if (owners.length === 0) find(path.join(ROOT, 'knative'), 'Service', `function ${folder} has no Knative Service (metadata.annotations.medlab.io/function: ${folder})`);
    if (owners.length > 1) for (const o of owners) find(o.file, 'metadata.annotations.medlab.io/function', `${folder} is run by ${owners.length} Services (${owners.map((x) => x.name).join(', ')}); exactly one expected`);
  }
  for (const s of set.services) {
    if (!folders.includes(s.functionDir)) find(s.file, 'metadata.annotations.medlab.io/function', `Service ${s.name} runs ${s.functionDir}, which has no index.ts`);
  }
  const serviceNames = new Set(set.services.map((s) => s.name));

  // 3. Every sink exists; every KafkaSource dead-letters to the intake, saying who it is.
  for (const k of set.kafkaSources) {
    if (k.sink.service && !serviceNames.has(k.sink.service)) find(k.file, 'spec.sink.ref.name', `Service ${k.sink.service} does not exist`);
    if (!k.delivery.deadLetterSink) find(k.file, 'spec.delivery.deadLetterSink', `KafkaSource ${k.name} has no dead-letter sink: an event that cannot be delivered would be dropped`);
    else if (k.delivery.deadLetterSink.service !== DEAD_LETTER_INTAKE) find(k.file, 'spec.delivery.deadLetterSink.ref.name', `KafkaSource ${k.name} must dead-letter to Service ${DEAD_LETTER_INTAKE} (the dead-letter system keeps, retries and redrives what every source gives up on)`);
    else if (!serviceNames.has(DEAD_LETTER_INTAKE)) find(k.file, 'spec.delivery.deadLetterSink.ref.name', `Service ${DEAD_LETTER_INTAKE} does not exist`);
    else if (new URLSearchParams((k.delivery.deadLetterSink.path ?? '').split('?')[1] ?? '').get('kafkasource') !== k.name) {
      find(k.file, 'spec.delivery.deadLetterSink.uri', `must be "/?kafkasource=${k.name}": the dead-letter intake records which KafkaSource gave up on an event from it`);
    }
  }
  for (const p of set.pingSources) {
    if (p.sink.service && !serviceNames.has(p.sink.service)) find(p.file, 'spec.sink.ref.name', `Service ${p.sink.service} does not exist`);
  }
  for (const r of set.routes) {
    if (!serviceNames.has(r.service)) find(r.file, `spec.rules (${r.path}).backendRefs[0].name`, `Service ${r.service} does not exist`);
  }

  // 4. What each function is (its module says) must match how it is wired: routes on an HTTPRoute at the
  //    path they declare, consumers behind a KafkaSource of the topics they declare, scheduled jobs behind a
  //    PingSource. Only route functions are public; the rest answer Knative eventing inside the cluster.
  const kinds = new Map(set.services.filter((s) => folders.includes(s.functionDir)).map((s) => [s.name, kindOf(loadFunctionModule(s.functionDir))]));
  const reachedBy: Record<FunctionKind, string> = { route: 'its HTTPRoute', consumer: 'its KafkaSource', scheduled: 'its PingSource', sink: 'the dead-letter sink of KafkaSources' };
  for (const s of set.services) {
    const fn = kinds.get(s.name);
    if (!fn) continue;
    const { kind, spec } = fn;
    if (kind === 'route') {
      const rules = set.routes.filter((r) => r.service === s.name);
      if (!rules.length) find(s.file, 'HTTPRoute', `route function ${s.name} (${spec.method} ${spec.path}) has no HTTPRoute rule, so the portal cannot reach it`);
      for (const r of rules) {
        if (r.path !== spec.path || (r.method && r.method !== spec.method)) find(r.file, `spec.rules (${r.path})`, `sends ${r.method ?? '*'} ${r.path} to ${s.name}, which declares ${spec.method} ${spec.path}`);
      }
    } else if (s.doc.metadata.labels?.[VISIBILITY_LABEL] !== 'cluster-local') {
      find(s.file, `metadata.labels.${VISIBILITY_LABEL}`, `${kind} function ${s.name} is reached only through Knative eventing (${reachedBy[kind]}); without "cluster-local" it is public on the cluster's domain`);
    }
    if (kind === 'consumer') {
      const sources = set.kafkaSources.filter((k) => k.sink.service === s.name);
      if (!sources.length) find(s.file, 'KafkaSource', `consumer ${s.name} has no KafkaSource, so no event reaches it`);
      const consumed = new Set(sources.flatMap((k) => k.topics));
      for (const t of spec.topics as string[]) if (!consumed.has(t)) find(s.file, 'KafkaSource spec.topics', `consumer ${s.name} declares topic ${t}, which no KafkaSource delivers to it`);
      for (const k of sources) for (const t of k.topics) if (!(spec.topics as string[]).includes(t)) find(k.file, 'spec.topics', `${t} is delivered to ${s.name}, which does not declare it`);
    }
    if (kind === 'scheduled' && !set.pingSources.some((p) => p.sink.service === s.name)) {
      find(s.file, 'PingSource', `scheduled function ${s.name} has no PingSource, so it never runs`);
    }
  }

  // 4b. HTTPRoutes: only route functions behind them, at most 16 rules each, one function per method and path.
  for (const r of set.routes) {
    const kind = kinds.get(r.service)?.kind;
    if (kind && kind !== 'route') find(r.file, `spec.rules[${r.rule}].backendRefs[0].name`, `sends ${r.method ?? '*'} ${r.path} to ${r.service}, a ${kind} function: only route functions are public`);
    const first = set.routes.find((o) => o.path === r.path && (o.method ?? '*') === (r.method ?? '*'));
    if (first !== r) find(r.file, `spec.rules[${r.rule}].matches (${r.method ?? '*'} ${r.path})`, `is already sent to ${first!.service} by HTTPRoute ${first!.route} (${rel(first!.file)})`);
  }
  // A browser on the portal's origin sends a preflight before each call: without an OPTIONS match the gateway
  // answers it 404 and the browser never makes the call.
  for (const r of set.routes) {
    if (!set.preflights.some((p) => p.service === r.service && p.path === r.path && (!p.method || !r.method || p.method === r.method))) {
      find(r.file, `spec.rules[${r.rule}].matches (${r.method ?? '*'} ${r.path})`, `no OPTIONS match sends the browser's preflight for ${r.method ?? '*'} ${r.path} to ${r.service} (add { path: ${r.path}, method: OPTIONS, headers: [access-control-request-method: ${r.method ?? '…'}] } to the rule's matches)`);
    }
  }
  for (const doc of docs.filter((d) => d.kind === 'HTTPRoute')) {
    const rules = (doc.spec.rules ?? []).length;
    if (rules > HTTPROUTE_MAX_RULES) find(doc.file, 'spec.rules', `HTTPRoute ${doc.metadata.name} has ${rules} rules; the Gateway API allows ${HTTPROUTE_MAX_RULES} per HTTPRoute: give the system its own HTTPRoute (knative/base/<system>/routes.yaml)`);
  }

  // 5. Every consumed topic is produced by some function or declared external.
  const emitted = emittedTypes(options.functionsDir);
  const producedTopics = new Set(Object.entries(eventTypes).filter(([t]) => emitted.has(t)).map(([, e]) => e.topic as string));
  for (const k of set.kafkaSources) {
    for (const t of k.topics) {
      if (!producedTopics.has(t) && !externalTopics[t]) find(k.file, 'spec.topics', `no function produces topic ${t} and it is not declared external (functions/shared/events/catalogue.ts externalTopics)`);
    }
  }

  // 6. ScaledObjects: target an existing KafkaSource with the same topic and consumer group; sane bounds.
  for (const so of set.scaledObjects) {
    const t = so.target;
    if (t.kind !== 'KafkaSource' || !String(t.apiVersion ?? '').startsWith('sources.knative.dev/')) {
      find(so.file, 'spec.scaleTargetRef', 'must target a KafkaSource (apiVersion sources.knative.dev/v1beta1, kind KafkaSource)');
      continue;
    }
    const source = set.kafkaSources.find((k) => k.name === t.name);
    if (!source) { find(so.file, 'spec.scaleTargetRef.name', `KafkaSource ${t.name} does not exist`); continue; }
    if (!so.kafka) { find(so.file, 'spec.triggers', 'needs a kafka trigger'); continue; }
    if (!source.topics.includes(so.kafka.topic)) find(so.file, 'spec.triggers[kafka].metadata.topic', `${so.kafka.topic || '(empty)'} is not a topic of KafkaSource ${source.name} (${source.topics.join(', ')})`);
    if (so.kafka.consumerGroup !== source.consumerGroup) find(so.file, 'spec.triggers[kafka].metadata.consumerGroup', `${so.kafka.consumerGroup || '(empty)'} is not the consumer group of KafkaSource ${source.name} (${source.consumerGroup})`);
    if (so.minReplicaCount > so.maxReplicaCount) find(so.file, 'spec.minReplicaCount', `${so.minReplicaCount} is above maxReplicaCount ${so.maxReplicaCount}`);
    if (so.kafka.lagThreshold <= 0) find(so.file, 'spec.triggers[kafka].metadata.lagThreshold', 'must be above 0');
  }
  for (const k of set.kafkaSources) {
    if (set.scaledObjects.filter((so) => so.target.name === k.name).length > 1) find(k.file, 'metadata.name', `KafkaSource ${k.name} is the target of more than one ScaledObject`);
  }

  // 7. Knative autoscaling annotations, and the image deploy.sh builds for the Service.
  for (const s of set.services) {
    const a = s.annotations;
    const min = a[`${AUTOSCALING}min-scale`];
    const max = a[`${AUTOSCALING}max-scale`];
    for (const [k, v] of Object.entries(a)) {
      if (k.startsWith(AUTOSCALING) && ['min-scale', 'max-scale', 'target', 'initial-scale'].some((n) => k.endsWith(n)) && !/^\d+(\.\d+)?$/.test(v)) {
        find(s.file, `spec.template.metadata.annotations.${k}`, `"${v}" is not a number`);
      }
    }
    if (min !== undefined && max !== undefined && Number(max) > 0 && Number(min) > Number(max)) find(s.file, `spec.template.metadata.annotations.${AUTOSCALING}min-scale`, `${min} is above max-scale ${max}`);
    const metric = a[`${AUTOSCALING}metric`];
    if (metric && !['concurrency', 'rps', 'cpu', 'memory'].includes(metric)) find(s.file, `spec.template.metadata.annotations.${AUTOSCALING}metric`, `${metric} is not one of concurrency, rps, cpu, memory`);
    const image = s.doc.spec?.template?.spec?.containers?.[0]?.image;
    if (image !== `patient-portal/${s.name}`) find(s.file, 'spec.template.spec.containers[0].image', `${image ?? '(none)'} is not patient-portal/${s.name}, the image scripts/deploy.sh builds for Service ${s.name}`);
  }

  // 8. What needs the Component applied, on the rendered Services: faas-js-runtime's probes, and Secret and
  //    ConfigMap keys that exist.
  const services = (rendered?.docs ?? []).filter((d) => d.kind === 'Service' && d.apiVersion.startsWith('serving.knative.dev/'));
  for (const doc of services) {
    const container = doc.spec?.template?.spec?.containers?.[0] ?? {};
    for (const [probe, health] of [['readinessProbe', '/health/readiness'], ['livenessProbe', '/health/liveness']]) {
      const segments = ['spec', 'template', 'spec', 'containers', 0, probe, 'httpGet', 'path'];
      if (container[probe]?.httpGet?.path !== health) find(setBy(doc, segments), at(segments), `must be ${health} (faas-js-runtime), is ${container[probe]?.httpGet?.path ?? 'missing'} in Service ${doc.metadata.name}`);
    }
  }
  // 8b. Every function is scraped: its pods carry the annotations Prometheus (and the PodMonitor) go by.
  for (const doc of services) {
    for (const [name, value] of Object.entries(SCRAPE_ANNOTATIONS)) {
      const segments = ['spec', 'template', 'metadata', 'annotations', name];
      const actual = doc.spec?.template?.metadata?.annotations?.[name];
      if (actual !== value) find(setBy(doc, segments), at(segments), `must be "${value}" so Prometheus scrapes faas-js-runtime's and the kit's metrics, is ${actual === undefined ? 'missing' : JSON.stringify(actual)} in Service ${doc.metadata.name}`);
    }
  }
  const secretKeys = (yaml.load(readFileSync(options.secretKeysFile ?? path.join(ROOT, 'knative', 'secret-keys.yaml'), 'utf8')) ?? {}) as Record<string, Record<string, string>>;
  const configMaps = new Map((rendered?.docs ?? docs).filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, (d as unknown as { data?: Record<string, string> }).data ?? {}]));
  for (const doc of services) {
    (doc.spec?.template?.spec?.containers ?? []).forEach((c: any, ci: number) => {
      (c.env ?? []).forEach((e: any, ei: number) => {
        const segments = ['spec', 'template', 'spec', 'containers', ci, 'env', ei];
        const file = setBy(doc, segments);
        const field = `${at(segments)} (${e.name})`;
        const sk = e.valueFrom?.secretKeyRef;
        if (sk && !(secretKeys[sk.name] && sk.key in secretKeys[sk.name])) find(file, field, `Secret ${sk.name} has no key ${sk.key} (knative/secret-keys.yaml lists what deploy.sh creates)`);
        const ck = e.valueFrom?.configMapKeyRef;
        if (ck && !(configMaps.get(ck.name) && ck.key in configMaps.get(ck.name)!)) find(file, field, `ConfigMap ${ck.name} has no key ${ck.key}`);
      });
    });
  }

  // 9. Tracing: every function is given the OTLP endpoint, and the endpoint portal-config names is a Service
  //    of the checked folders (the collector, knative/observability) on that port.
  const ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  for (const doc of services) {
    const env = doc.spec?.template?.spec?.containers?.[0]?.env ?? [];
    if (!env.some((e: any) => e.name === ENDPOINT_ENV)) {
      find(setBy(doc, ['spec', 'template', 'spec', 'containers', 0, 'env']), 'spec.template.spec.containers[0].env', `Service ${doc.metadata.name} has no ${ENDPOINT_ENV}, so its traces go nowhere (knative/components/function maps it from portal-config)`);
    }
  }
  for (const cm of docs.filter((d) => d.kind === 'ConfigMap' && d.metadata.name === 'portal-config')) {
    const endpoint = (cm as unknown as { data?: Record<string, string> }).data?.['otel-exporter-otlp-endpoint'];
    if (endpoint === undefined) continue;
    let target: URL | undefined;
    try { target = new URL(endpoint); } catch { /* reported below */ }
    const port = target ? Number(target.port || (target.protocol === 'https:' ? 443 : 80)) : NaN;
    const name = target?.hostname.split('.')[0];
    const collector = docs.find((d) => d.apiVersion === 'v1' && d.kind === 'Service' && d.metadata.name === name);
    if (!collector || !(collector.spec?.ports ?? []).some((p: any) => p.port === port)) {
      find(cm.file, 'data.otel-exporter-otlp-endpoint', `${endpoint} is not a Service of ${dirs.map(rel).join(', ')} on port ${Number.isNaN(port) ? '?' : port}: the functions' spans would go nowhere (the collector is knative/observability/otel-collector.yaml)`);
    }
  }

  return { findings: done(), set };
}
