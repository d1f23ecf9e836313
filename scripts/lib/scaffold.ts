// What `npm run new` writes for a new function, kept apart from the command so a test can scaffold into a
// copy of the project and run every check on the result.
import path from 'node:path';
import type * as fs from 'node:fs';

export type Kind = 'route' | 'consumer' | 'job';

export interface NewFunction {
  system: string;
  name: string;
  kind: Kind;
  method?: 'GET' | 'POST';
  path?: string;
  auth?: string;
  topic?: string;
  event?: string;
  schedule?: string;
}

type Fs = Pick<typeof fs, 'existsSync' | 'mkdirSync' | 'readdirSync' | 'readFileSync' | 'writeFileSync'>;

/** The Gateway API's limit of rules in one HTTPRoute. */
const MAX_RULES = 16;

export function scaffold(root: string, f: NewFunction, io: Fs): string[] {
  const fnDir = path.join(root, 'functions', f.system, f.name);
  const knativeDir = path.join(root, 'knative', 'base', f.system);
  const systemFile = path.join(root, 'functions', f.system, 'system.ts');
  if (!io.existsSync(systemFile)) throw new Error(`functions/${f.system}/system.ts does not exist: a function belongs to a system (defineSystem) with its schema and events`);
  if (!io.existsSync(path.join(knativeDir, 'kustomization.yaml'))) throw new Error(`knative/base/${f.system}/kustomization.yaml does not exist`);
  if (io.existsSync(fnDir)) throw new Error(`functions/${f.system}/${f.name} already exists`);
  if (f.name.length > 50) throw new Error('the name is the Knative Service name: keep it under 50 characters');
  const seed = /seed:\s*'([^']+)'/.exec(io.readFileSync(systemFile, 'utf8'))?.[1] ?? '-';
  const written: string[] = [];
  const write = (file: string, text: string) => {
    io.mkdirSync(path.dirname(file), { recursive: true });
    io.writeFileSync(file, text);
    written.push(path.relative(root, file));
  };

  // Everything is checked before anything is written: a refused scaffold leaves no half-made function.
  const method = f.method ?? 'GET';
  const routePath = f.path ?? `/api/${f.system}/${f.name}`;
  const roles = (f.auth ?? 'staff,service').split(',').map((r) => r.trim());
  if (f.kind === 'route') {
    if (!/^\/api\/[a-z0-9/-]+$/.test(routePath)) throw new Error(`--path ${routePath}: a public path like /api/<something>`);
    if (roles[0] !== 'public' && roles.some((r) => !['patient', 'staff', 'service'].includes(r))) throw new Error('--auth: public, or roles among patient, staff, service');
  } else if (f.kind === 'consumer') {
    if (!f.topic || !f.event) throw new Error('a consumer needs --topic <topic> and --event <CloudEvent type declared in the system\'s events.ts>');
    const events = io.readFileSync(path.join(root, 'functions', f.system, 'events.ts'), 'utf8');
    if (!events.includes(`'${f.event}'`)) throw new Error(`${f.event} is not declared in functions/${f.system}/events.ts`);
  }

  write(path.join(fnDir, 'func.yaml'), `specVersion: 0.36.0\nname: ${f.name}\nruntime: typescript\nnamespace: patient-portal\nbuild:\n  builder: pack\n`);
  if (f.kind === 'route') {
    const auth = roles[0] === 'public' ? "'public'" : `[${roles.map((r) => `'${r}'`).join(', ')}]`;
    writeRoute(write, fnDir, f, method, routePath, auth, roles[0] === 'public' ? undefined : roles[0]);
    addRouteRule(io, write, knativeDir, f, method, routePath);
  } else if (f.kind === 'consumer') {
    writeConsumer(write, fnDir, f);
  } else {
    writeJob(write, fnDir, f);
  }
  write(path.join(knativeDir, `${f.name}.yaml`), serviceYaml(f, seed) + sourceYaml(f));
  const kustomization = path.join(knativeDir, 'kustomization.yaml');
  const k = io.readFileSync(kustomization, 'utf8');
  io.writeFileSync(kustomization, k.replace(/(resources:\n)/, `$1  - ${f.name}.yaml\n`));
  written.push(path.relative(root, kustomization));
  return written;
}

type Write = (file: string, text: string) => void;

function writeRoute(write: Write, dir: string, f: NewFunction, method: string, routePath: string, auth: string, role: string | undefined): void {
  const input = method === 'GET' ? 'query' : 'body';
  write(path.join(dir, 'schema.ts'), `// What ${f.name} accepts and answers (JSON Schemas: validation, types and /openapi.json come from these).
export const ${input} = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId'],
  properties: {
    branchId: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['branchId'],
  properties: {
    branchId: { type: 'string' },
  },
} as const;
`);
  write(path.join(dir, 'index.ts'), `// ${f.name} (scaffolded): replace this line with two or three saying who calls this, what it does for them and what it guarantees.
import { route, ok } from '../../shared/http';
import { system } from '../system';
import { ${input}, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: '${f.name}', system, method: '${method}', path: '${routePath}',
    summary: '${f.name} (scaffolded)', auth: ${auth}, ${input},
    responses: { 200: { description: 'the view', schema: view } },
  },
  async ({ ${input} }) => ok({ branchId: ${input}.branchId }),
);
`);
  const tok = role ? `, token: ${role === 'patient' ? 'patientToken()' : role === 'staff' ? 'staffToken()' : "token('service', 'test')"}` : '';
  const send = method === 'GET' ? `{ query: { branchId: BRANCH }${tok} }` : `{ body: { branchId: BRANCH }${tok} }`;
  write(path.join(dir, 'index.test.ts'), `import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, BRANCH, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';

void patientToken; void staffToken; void token;

describe('${f.name} (${method} ${routePath})', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());

  it('answers the view for a valid request', async () => {
    const res = await call(running.url, ${send});
    assert.equal(res.status, 200);
    assert.equal(res.body.branchId, BRANCH);
  });

  it('names the missing field in a problem+json 400', async () => {
    const res = await call(running.url, ${method === 'GET' ? `{ query: {}${tok} }` : `{ body: {}${tok} }`});
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, '${input}/branchId');
  });
});
`);
}

function writeConsumer(write: Write, dir: string, f: NewFunction): void {
  write(path.join(dir, 'index.ts'), `// ${f.name} (scaffolded): replace this line with two or three saying which events arrive, what each changes and what it guarantees.
import { consume } from '../../shared/consume';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = consume(
  { name: '${f.name}', system, topics: ['${f.topic}'], summary: '${f.name} (scaffolded)' },
  {
    '${f.event}': async (data, { log }) => {
      log.info({ event: '${f.event}' }, 'event received');
      return { seen: true };
    },
  },
);
`);
  write(path.join(dir, 'index.test.ts'), `import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, deliver, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

describe('${f.name} (consumer of ${f.topic})', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  it('refuses data that breaks the contract with a 400 naming the field (dead-lettered, never retried)', async () => {
    const res = await deliver(running.url, { type: '${f.event}', data: { unexpected: true } });
    assert.equal(res.status, 400);
    assert.ok(res.body['invalid-params'].length);
  });
});
`);
}

function writeJob(write: Write, dir: string, f: NewFunction): void {
  write(path.join(dir, 'index.ts'), `// ${f.name} (scaffolded): replace this line with two or three saying what this job does on its schedule and what it guarantees.
import { scheduled } from '../../shared/scheduled';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = scheduled(
  { name: '${f.name}', system, schedule: '${f.schedule ?? '*/5 * * * *'}', summary: '${f.name} (scaffolded)' },
  async () => ({ done: true }),
);
`);
  write(path.join(dir, 'index.test.ts'), `import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, type RunningFunction } from '../../../test/support/fixtures';

describe('${f.name} (scheduled job)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());

  it('runs when its PingSource fires and says what it did', async () => {
    const res = await call(running.url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'p1', 'ce-source': '/ping', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' }, raw: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.body.done, true);
  });
});
`);
}

function serviceYaml(f: NewFunction, seed: string): string {
  const clusterLocal = f.kind === 'route' ? '' : '    # Reached only through Knative eventing, never from outside the cluster.\n    networking.knative.dev/visibility: cluster-local\n';
  const concurrency = f.kind === 'route' ? 100 : f.kind === 'consumer' ? 10 : 1;
  const max = f.kind === 'job' ? 1 : 10;
  return `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: ${f.name}
  labels:
    medlab.io/system: ${f.system}
    medlab.io/seed: ${seed}
${clusterLocal}  annotations:
    medlab.io/function: functions/${f.system}/${f.name}
spec:
  template:
    metadata:
      annotations:
        # min-scale 0: scales from zero on first use (say here why this function's numbers are what they are)
        autoscaling.knative.dev/min-scale: "0"
        autoscaling.knative.dev/max-scale: "${max}"
        autoscaling.knative.dev/metric: concurrency
        autoscaling.knative.dev/target: "50"
    spec:
      containerConcurrency: ${concurrency}
      containers:
        - name: user-container
          image: patient-portal/${f.name}
`;
}

function sourceYaml(f: NewFunction): string {
  const sink = `    ref:\n      apiVersion: serving.knative.dev/v1\n      kind: Service\n      name: ${f.name}\n`;
  if (f.kind === 'consumer') {
    return `---
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata:
  name: ${f.name}-source
  labels:
    medlab.io/system: ${f.system}
spec:
  bootstrapServers:
    - kafka-bootstrap.kafka:9092
  topics:
    - ${f.topic}
  consumerGroup: ${f.name}
  initialOffset: earliest
  ordering: ordered
  consumers: 1
  delivery:
    # A few quick retries ride out a database failover; then the dead-letter system keeps the event.
    retry: 5
    backoffPolicy: exponential
    backoffDelay: PT0.5S
    timeout: PT30S
    deadLetterSink:
      ref:
        apiVersion: serving.knative.dev/v1
        kind: Service
        name: dead-letter-intake
      uri: /?kafkasource=${f.name}-source
  sink:
${sink}`;
  }
  if (f.kind === 'job') {
    return `---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata:
  name: ${f.name}-ping
  labels:
    medlab.io/system: ${f.system}
spec:
  schedule: "${f.schedule ?? '*/5 * * * *'}"
  timezone: Asia/Ho_Chi_Minh
  contentType: application/json
  data: '{"job":"${f.name}"}'
  sink:
${sink}`;
  }
  return '';
}

/** A rule in the system's HTTPRoute; a new HTTPRoute (routes-N.yaml) when the last one has 16 rules. */
function addRouteRule(io: Fs, write: Write, knativeDir: string, f: NewFunction, method: string, routePath: string): void {
  const rule = `    - matches:
        - path:
            type: Exact
            value: ${routePath}
          method: ${method}
        # the browser's CORS preflight for it
        - path:
            type: Exact
            value: ${routePath}
          method: OPTIONS
          headers:
            - name: access-control-request-method
              value: ${method}
      filters:
        - type: URLRewrite
          urlRewrite:
            hostname: ${f.name}.patient-portal.svc.cluster.local
            path:
              type: ReplaceFullPath
              replaceFullPath: /
      backendRefs:
        - name: ${f.name}
          port: 80
`;
  const files = io.readdirSync(knativeDir).filter((n) => /^routes(-\d+)?\.yaml$/.test(String(n))).map(String).sort((a, b) => a.length - b.length || a.localeCompare(b));
  const last = files.at(-1);
  const text = last ? io.readFileSync(path.join(knativeDir, last), 'utf8') : '';
  if (last && (text.match(/^ {4}- matches:/gm) ?? []).length < MAX_RULES) {
    io.writeFileSync(path.join(knativeDir, last), text.replace(/\n*$/, '\n') + rule);
    return;
  }
  const n = files.length + 1;
  const file = n === 1 ? 'routes.yaml' : `routes-${n}.yaml`;
  write(path.join(knativeDir, file), `# ${f.system}'s public paths${n > 1 ? ` (continued: an HTTPRoute holds at most ${MAX_RULES} rules)` : ''}.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${f.system}-api${n > 1 ? `-${n}` : ''}
  labels:
    medlab.io/system: ${f.system}
spec:
  parentRefs:
    - name: portal-gateway
  hostnames:
    - api.portal.medlab.example
  rules:
${rule}`);
  const kustomization = path.join(knativeDir, 'kustomization.yaml');
  io.writeFileSync(kustomization, io.readFileSync(kustomization, 'utf8').replace(/\n*$/, '\n') + `  - ${file}\n`);
}
