// The kit's metrics, served at each function's /metrics (Prometheus text) right after faas-js-runtime's own:
// requests of route functions, events consumed and where their time goes, the outbox, scheduled runs, dead
// letters, and the gauges a system declares (functions/<system>/metrics.ts) read at scrape time. Each function
// has a registry of its own whose every series carries `function` (its name): the laptop bundle hosts every
// function in one process, and each function's /metrics shows only its own. Labels are names from the
// contracts (routes, event types, topics, outcomes), never ids or PHI.
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { db, tableOf, type Db } from './db';
import { logger } from './log';
import type { System } from './system';

/** Request latency buckets (seconds): a route answers in milliseconds; above 10 s it is stuck, not slow. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Phase buckets: validating an event takes microseconds, a transaction milliseconds. */
const PHASE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A gauge read at scrape time gives up after this long, so a slow database never stalls the scrape. */
export const GAUGE_READ_TIMEOUT_MS = 2000;
/** Distinct label sets kept for labels fed from outside (a dead letter's source): beyond, "other". */
const OUTSIDE_LABEL_SETS = 200;

/** The metrics of one function: its registry and the instruments the kit made in it, each made once. */
class FunctionMetrics {
  readonly registry = new Registry();
  private readonly made = new Map<string, unknown>();

  constructor(readonly name: string) {
    this.registry.setDefaultLabels({ function: name });
  }

  once<T>(metricName: string, make: (registers: Registry[]) => T): T {
    if (!this.made.has(metricName)) this.made.set(metricName, make([this.registry]));
    return this.made.get(metricName) as T;
  }
}

const byFunction = new Map<string, FunctionMetrics>();

export function metricsOf(fn: string): FunctionMetrics {
  let m = byFunction.get(fn);
  if (!m) byFunction.set(fn, (m = new FunctionMetrics(fn)));
  return m;
}

/** What the kit adds to a function's /metrics ('' for a function that recorded nothing). */
export async function kitExposition(fn: string | undefined): Promise<string> {
  const m = fn ? byFunction.get(fn) : undefined;
  return m ? m.registry.metrics() : '';
}

/** Seconds since a performance.now() reading. */
export const since = (start: number): number => (performance.now() - start) / 1000;

// ---------- HTTP (route functions) ----------

interface RequestCell {
  labels: { route: string; method: string; status: string };
  count: number;
  sum: number;
  /** Requests per bucket (not cumulative); the last one is above the largest bound. */
  perBucket: number[];
}

/**
 * Requests of one route: count and duration per method and status, kept as plain numbers and formatted only
 * when scraped. A request costs two lookups and three additions: no label object, no hashing, no allocation
 * (prom-client's labelled observe() builds and validates a label set on every call).
 */
export class RouteRequests {
  private readonly cells: Record<string, RequestCell[]> = Object.create(null);

  constructor(readonly route: string) {}

  record(method: string, status: number, seconds: number): void {
    const row = this.cells[method] ??= [];
    const cell = row[status] ??= { labels: { route: this.route, method, status: String(status) }, count: 0, sum: 0, perBucket: new Array(HTTP_BUCKETS.length + 1).fill(0) };
    cell.count++;
    cell.sum += seconds;
    let i = 0;
    while (i < HTTP_BUCKETS.length && seconds > HTTP_BUCKETS[i]) i++;
    cell.perBucket[i]++;
  }

  all(): RequestCell[] {
    return Object.values(this.cells).flatMap((row) => row.filter(Boolean));
  }
}

/** A metric prom-client's registry formats, read from cells kept elsewhere. */
function cellMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>) {
  return { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset: () => undefined };
}

/** The request metrics of a route function (one route: its spec's path template, never a concrete URL). */
export function routeRequests(fn: string, route: string): RouteRequests {
  const m = metricsOf(fn);
  return m.once('http_server_requests', (registers) => {
    const requests = new RouteRequests(route);
    const counter = cellMetric('http_server_requests_total', 'HTTP requests answered, by route, method and status', 'counter',
      () => requests.all().map((c) => ({ labels: c.labels, value: c.count })));
    const histogram = cellMetric('http_server_request_duration_seconds', 'Time from the request reaching the function to its answer being sent, by route, method and status', 'histogram',
      () => requests.all().flatMap((c) => {
        let cumulative = 0;
        return [
          ...HTTP_BUCKETS.map((le, i) => ({ labels: { ...c.labels, le }, value: (cumulative += c.perBucket[i]), metricName: 'http_server_request_duration_seconds_bucket' })),
          { labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: 'http_server_request_duration_seconds_bucket' },
          { labels: c.labels, value: c.sum, metricName: 'http_server_request_duration_seconds_sum' },
          { labels: c.labels, value: c.count, metricName: 'http_server_request_duration_seconds_count' },
        ];
      }));
    for (const r of registers) for (const metric of [counter, histogram]) r.registerMetric(metric as unknown as Metric);
    return requests;
  });
}

/** Where faas-js-runtime serves its metrics (its METRICS_URL setting). */
const METRICS_PATH = process.env.METRICS_URL || '/metrics';

type Hook = (...args: any[]) => unknown;
const withHook = (existing: Hook | Hook[] | undefined, hook: Hook): Hook[] => [...(existing ? [existing].flat() : []), hook];
interface HookReply {
  statusCode: number;
  elapsedTime: number;
  header(name: string, value: string): unknown;
  getHeaders(): Record<string, unknown>;
  removeHeader(name: string): unknown;
}

/** The kit's exposition of a /metrics request, read before the runtime's handler sends its own. */
const pendingExposition = new WeakMap<object, string>();

/**
 * Fastify's onRoute, for every route faas-js-runtime adds. A route function's invocation path (/) times each
 * answer with Fastify's own clock (from routing to the last byte sent), so the 4xx of the kit's hooks count
 * too. /metrics answers the runtime's exposition followed by the kit's for this function: one scrape, one
 * content type (both are Prometheus text 0.0.4; no metric name is in both). The kit's is read first (its
 * gauges may query the database) and appended in a synchronous onSend: the runtime's handler sends without
 * returning the reply, so an asynchronous onSend would race Fastify's own end of the request. `shape` is read
 * per request: the function's name and path are learnt as the runtime registers it.
 */
export function instrumentRoute(route: { url?: string; handler?: Hook; onResponse?: Hook | Hook[]; onSend?: Hook | Hook[] }, shape: { name?: string; path?: string }): void {
  if (route.url === METRICS_PATH && route.handler) {
    const runtimeHandler = route.handler;
    route.handler = async function (this: unknown, request: object, reply: unknown) {
      pendingExposition.set(request, await kitExposition(shape.name));
      return runtimeHandler.call(this, request, reply);
    };
    route.onSend = withHook(route.onSend, (request: object, reply: HookReply, payload: unknown, done: (err: null, p: unknown) => void) => {
      const kit = pendingExposition.get(request);
      if (kit === undefined || reply.statusCode !== 200 || typeof payload !== 'string') return done(null, payload);
      // faas-js-runtime 3.0.2 calls reply.headers('Content-Type', type), which sets one header per character
      // ("0: C", "1: o", …) and leaves text/plain without the format's version: answer what the body is.
      for (const name of Object.keys(reply.getHeaders())) if (/^\d+$/.test(name)) reply.removeHeader(name);
      reply.header('content-type', Registry.PROMETHEUS_CONTENT_TYPE);
      done(null, payload + kit);
    });
  } else if (route.url === '/') {
    let requests: RouteRequests | undefined;
    route.onResponse = withHook(route.onResponse, (request: { method: string }, reply: HookReply, done: () => void) => {
      if (shape.path && shape.name) (requests ??= routeRequests(shape.name, shape.path)).record(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
}

// ---------- events (consume) ----------

export type EventOutcome = 'processed' | 'duplicate' | 'invalid' | 'refused' | 'unavailable' | 'failed';
export const EVENT_OUTCOMES: readonly EventOutcome[] = ['processed', 'duplicate', 'invalid', 'refused', 'unavailable', 'failed'];
export type EventPhase = 'validation' | 'transaction' | 'publish';
/** The type label of an event the consumer does not handle (or a request with no event): senders choose it. */
export const UNHANDLED_TYPE = 'unhandled';

/** How an answer to a delivery reads as an outcome (what Knative does next follows from the status). */
export function eventOutcome(response: { statusCode?: number; body?: unknown }): EventOutcome {
  const status = response.statusCode ?? 200;
  if (status < 300) return (response.body as { status?: string } | undefined)?.status === 'duplicate' ? 'duplicate' : 'processed';
  if (status === 400) return 'invalid';
  if (status === 503) return 'unavailable';
  return status >= 500 ? 'failed' : 'refused';
}

function phases(fn: string) {
  return metricsOf(fn).once('event_phase_duration_seconds', (registers) => new Histogram({
    name: 'event_phase_duration_seconds',
    help: 'Where an event\'s time goes: validation (contract check), transaction (inbox, effect and outbox, to commit), publish (commit to the emitted events on the bus)',
    labelNames: ['phase'], buckets: PHASE_BUCKETS, registers,
  }));
}

/** A phase's histogram child, made once (zeroed then, so the series exists before the first event). */
export function phaseTimer(fn: string, phase: EventPhase): { observe(seconds: number): void } {
  return metricsOf(fn).once(`event_phase_duration_seconds/${phase}`, () => {
    const histogram = phases(fn);
    histogram.zero({ phase });
    return histogram.labels(phase);
  });
}

/** The event metrics of a consumer: every handled type × outcome exists (at 0) from the start. */
export function consumerMetrics(fn: string, types: readonly string[]) {
  const consumed = metricsOf(fn).once('events_consumed_total', (registers) => new Counter({
    name: 'events_consumed_total', help: 'Events delivered to the consumer, by CloudEvent type and outcome', labelNames: ['type', 'outcome'], registers,
  }));
  const counters = new Map<string, Map<EventOutcome, { inc(): void }>>();
  for (const type of [...types, UNHANDLED_TYPE]) {
    counters.set(type, new Map(EVENT_OUTCOMES.map((outcome) => {
      consumed.inc({ type, outcome }, 0);
      return [outcome, consumed.labels(type, outcome)];
    })));
  }
  return {
    validation: phaseTimer(fn, 'validation'),
    transaction: phaseTimer(fn, 'transaction'),
    /** Wraps the consumer's handle: each answer is counted by the event's type and the outcome it means. */
    counted<C, E extends { type?: string }, R extends { statusCode?: number; body?: unknown }>(handle: (context: C, event?: E) => Promise<R>) {
      return async (context: C, event?: E): Promise<R> => {
        const response = await handle(context, event);
        (counters.get(event?.type ?? UNHANDLED_TYPE) ?? counters.get(UNHANDLED_TYPE)!).get(eventOutcome(response))!.inc();
        return response;
      };
    },
  };
}

// ---------- scheduled jobs ----------

export type RunOutcome = 'succeeded' | 'unavailable' | 'failed';

export function scheduledMetrics(fn: string) {
  const m = metricsOf(fn);
  const runs = m.once('scheduled_runs_total', (registers) => new Counter({
    name: 'scheduled_runs_total', help: 'Runs of the scheduled job, by outcome (unavailable: 503, retried by the PingSource)', labelNames: ['outcome'], registers,
  }));
  const duration = m.once('scheduled_run_duration_seconds', (registers) => new Histogram({
    name: 'scheduled_run_duration_seconds', help: 'Time a run of the scheduled job took', buckets: HTTP_BUCKETS, registers,
  }));
  for (const outcome of ['succeeded', 'unavailable', 'failed'] as const) runs.inc({ outcome }, 0);
  return {
    counted<A extends unknown[], R extends { statusCode?: number }>(handle: (...args: A) => Promise<R>) {
      return async (...args: A): Promise<R> => {
        const start = performance.now();
        const response = await handle(...args);
        const status = response.statusCode ?? 200;
        runs.inc({ outcome: status < 300 ? 'succeeded' : status === 503 ? 'unavailable' : 'failed' });
        duration.observe(since(start));
        return response;
      };
    },
  };
}

// ---------- outbox ----------

const UNATTRIBUTED = 'unattributed';
/** Per system, the function that serves its gauges (its outbox publisher): publishing nobody names is its. */
const outboxOwners = new Map<string, string>();

/** Who a publish counts for: the function that committed the events, else the system's outbox publisher. */
function publisherOf(system: System, by: string | undefined): string {
  return by ?? outboxOwners.get(system.name) ?? process.env.K_SERVICE ?? UNATTRIBUTED;
}

function outboxCounters(fn: string) {
  const m = metricsOf(fn);
  return {
    published: m.once('outbox_published_total', (registers) => new Counter({
      name: 'outbox_published_total', help: 'Outbox events published to the bus, by system and topic', labelNames: ['system', 'topic'], registers,
    })),
    failures: m.once('outbox_publish_failures_total', (registers) => new Counter({
      name: 'outbox_publish_failures_total', help: 'Outbox batches the bus refused (the events stay in the outbox and are sent later)', labelNames: ['system'], registers,
    })),
  };
}

export function countPublished(system: System, rows: ReadonlyArray<{ topic: string }>, by?: string): void {
  const { published } = outboxCounters(publisherOf(system, by));
  const perTopic = new Map<string, number>();
  for (const r of rows) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
  for (const [topic, n] of perTopic) published.inc({ system: system.name, topic }, n);
}

export function countPublishFailure(system: System, by?: string): void {
  outboxCounters(publisherOf(system, by)).failures.inc({ system: system.name });
}

/** Commits whose events wait for the post-commit publish, per system: the function and when it committed. */
const awaitingPublish = new Map<string, Array<{ fn: string; at: number }>>();

/** A commit emitted events: the publish phase of its function starts now. `source` is /<system>/<function>. */
export function awaitPublish(system: System, source: string | undefined): void {
  if (!source) return;
  const fn = source.slice(source.lastIndexOf('/') + 1);
  let waiting = awaitingPublish.get(system.schema);
  if (!waiting) awaitingPublish.set(system.schema, (waiting = []));
  waiting.push({ fn, at: performance.now() });
}

/**
 * The commits a drain about to start will publish (all committed before it reads the outbox). After it,
 * published() observes each one's publish phase; retry() hands them to the next drain (another publisher held
 * the lock); a drain the bus refused leaves them to the batch publisher, and their publish phase unmeasured.
 */
export function publishBatch(system: System) {
  const batch = awaitingPublish.get(system.schema) ?? [];
  awaitingPublish.delete(system.schema);
  return {
    /** The function the drain counts for: the first that committed. */
    by: batch[0]?.fn,
    published(): void {
      for (const w of batch) phaseTimer(w.fn, 'publish').observe(since(w.at));
    },
    retry(): void {
      if (!batch.length) return;
      const waiting = awaitingPublish.get(system.schema) ?? [];
      awaitingPublish.set(system.schema, [...batch, ...waiting]);
    },
  };
}

// ---------- dead letters ----------

export function deadLetterMetrics(fn: string) {
  const received = metricsOf(fn).once('dead_letters_received_total', (registers) => new Counter({
    name: 'dead_letters_received_total',
    help: 'Dead letters kept, by the system whose contract the event type belongs to, the CloudEvent source and the status the consumer answered',
    labelNames: ['system', 'source', 'code'], registers,
  }));
  const perWrite = metricsOf(fn).once('dead_letter_intake_write_letters', (registers) => new Histogram({
    name: 'dead_letter_intake_write_letters',
    help: 'Letters the intake kept with one statement (group commit: deliveries that arrive together are written together)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200], registers,
  }));
  const seen = new Set<string>();
  return {
    /** One statement kept this many letters. */
    written(letters: number): void {
      perWrite.observe(letters);
    },
    received(labels: { system: string; source: string; code: string }): void {
      const key = `${labels.system}\u0000${labels.source}\u0000${labels.code}`;
      // The source is the sender's choice: past a bound, new ones are counted together, never as new series.
      if (!seen.has(key) && seen.size >= OUTSIDE_LABEL_SETS) return received.inc({ ...labels, source: 'other' });
      seen.add(key);
      received.inc(labels);
    },
  };
}

// ---------- gauges read at scrape time ----------

export interface GaugeReading<L extends string> {
  labels: Record<L, string>;
  value: number;
}

export interface GaugeDeclaration<L extends string = string> {
  help: string;
  labels: readonly L[];
  /** The current values, read when Prometheus scrapes: one cheap query an index answers. */
  read(db: Db): Promise<Array<GaugeReading<L>>>;
}

export interface SystemGauges {
  system: System;
  gauges: Record<string, GaugeDeclaration>;
}

const METRIC_NAME = /^[a-z_][a-z0-9_]*$/;
const KIT_NAMES = /^(http_server_|events_consumed|event_phase|outbox_|scheduled_|dead_letters_|faas_|process_|nodejs_)/;

/**
 * A system's gauges, read at scrape time (functions/<system>/metrics.ts). The system's outbox publisher
 * serves them (scheduled({ …, gauges })), with the outbox's backlog and age, so each is read by one
 * function per scrape rather than by all of them.
 */
export function systemGauges<const G extends Record<string, GaugeDeclaration<any>>>(system: System, gauges: G = {} as G): SystemGauges {
  for (const name of Object.keys(gauges)) {
    if (!METRIC_NAME.test(name) || KIT_NAMES.test(name)) throw new Error(`system ${system.name}: gauge ${name} must be a lower-case metric name outside the kit's and the runtime's (${KIT_NAMES.source})`);
  }
  return { system, gauges };
}

/** The backlog gauge counts up to this many (a bounded index scan); past it, the oldest age tells how bad it is. */
export const OUTBOX_BACKLOG_CAP = 100_000;

/** The outbox gauges of a system: one statement, answered by the (published_at, seq) index. */
export function outboxGauges(system: System): Record<string, GaugeDeclaration<'system'>> {
  const table = tableOf(system, 'outbox_event');
  let reading: Promise<{ backlog: number; oldest: number }> | undefined;
  // Both gauges come from one query per scrape. ORDER BY published_at, seq is the index's order (ORDER BY seq
  // alone walks the primary key through every published row).
  const read = (client: Db) => (reading ??= client.$queryRaw<Array<{ backlog: number; oldest: number | null }>>`
    SELECT (SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE published_at IS NULL LIMIT ${OUTBOX_BACKLOG_CAP}) unsent)::float8 AS backlog,
           (SELECT extract(epoch FROM now() - time) FROM ${table} WHERE published_at IS NULL ORDER BY published_at, seq LIMIT 1)::float8 AS oldest`
    .then(([row]) => ({ backlog: row.backlog, oldest: Math.max(0, row.oldest ?? 0) }))
    .finally(() => setImmediate(() => { reading = undefined; })));
  const labels = { system: system.name };
  return {
    outbox_backlog: { help: `Outbox events not yet published (counted up to ${OUTBOX_BACKLOG_CAP})`, labels: ['system'], read: async (c) => [{ labels, value: (await read(c)).backlog }] },
    outbox_oldest_age_seconds: { help: 'Age of the oldest outbox event not yet published (0 when none waits)', labels: ['system'], read: async (c) => [{ labels, value: (await read(c)).oldest }] },
  };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Serves a system's gauges (and, for a system with events, its outbox's) at this function's /metrics. */
export function serveGauges(fn: string, served: SystemGauges): void {
  const { system } = served;
  const hasOutbox = Object.keys(system.events).length > 0;
  if (hasOutbox) outboxOwners.set(system.name, fn);
  const all: Record<string, GaugeDeclaration> = { ...(hasOutbox ? outboxGauges(system) : {}), ...served.gauges };
  const m = metricsOf(fn);
  for (const [name, declaration] of Object.entries(all)) {
    m.once(name, (registers) => new Gauge({
      name, help: declaration.help, labelNames: [...declaration.labels], registers,
      async collect() {
        try {
          const readings = await withDeadline(declaration.read(db()), GAUGE_READ_TIMEOUT_MS);
          this.reset();
          for (const r of readings) this.set(r.labels, r.value);
        } catch (err) {
          // No value rather than a stale one: the series disappears, which absent() alerts see.
          this.reset();
          logger.warn({ fn, gauge: name, err: String(err) }, 'gauge could not be read for /metrics');
        }
      },
    }));
  }
}
