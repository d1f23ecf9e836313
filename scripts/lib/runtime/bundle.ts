// The whole bundle in one process, wired as knative/ declares it: route functions behind the HTTPRoute's
// public paths, KafkaSources delivering topics to their sinks, PingSources firing their schedules, and a
// gateway on one port with the function listing, per-function URLs and health, /openapi.json, and (from
// this machine only) a way to put records on topics, as a Kafka REST proxy would.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Cron } from 'croner';
import { CloudEvent, HTTP } from 'cloudevents';
import { kafkaRecord } from '../../../functions/shared/publisher';
import { loadManifests, type ManifestSet, type SinkRef } from '../manifests';
import { hostFunction, type HostedFunction } from './host';
import { KafkaDispatcher, MemoryDispatcher, type Dispatcher } from './dispatcher';
import { readLag, ruleOf, Scaler, type LagReading, type ScaleDecision } from '../keda';
import { schedulePing, firePing } from './ping';
import { openApiDocument } from './openapi';
import { serveTraces, traceRing } from './traces';
import { KafkaBus, kafkaBrokers } from '../../../functions/shared/kafka';
import type { BusRecord } from '../../../functions/shared/bus';
import { memoryBus } from '../laptop/memory-bus';
import { logger } from '../../../functions/shared/log';
import { Problem, type InvalidParam } from '../../../functions/shared/errors';
import { eventTypes } from '../../../functions/shared/events/catalogue';
import { answerClientError, drainRequest, jsonTextDepth } from '../../../functions/shared/runtime-hooks';
import { MAX_JSON_DEPTH } from '../../../functions/shared/http-config';

export interface BundleOptions {
  port: number;
  host?: string;
  /** Folders of YAML (default knative/base and keda). */
  manifestsDir?: string | string[];
  /** Start PingSource schedules (tests fire them by hand). */
  schedules?: boolean;
  functionLogLevel?: string;
  /** Pages the laptop adds to the gateway (GET, from this machine only, like /topics and /traces): path → handler. */
  localPages?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

export interface ScalingState {
  scaledObject: string;
  kafkaSource: string;
  topic: string;
  consumerGroup: string;
  reading?: LagReading;
  decision?: ScaleDecision;
  replicas: number;
  at?: string;
  error?: string;
}

/** Text records /topics takes besides JSON, on a topic no CloudEvent contract declares: HL7 v2 messages (ER7) as the LIS writes them. */
const TEXT_RECORDS = new Set(['text/plain', 'application/hl7-v2', 'x-application/hl7-v2+er7']);

export class Bundle {
  manifests!: ManifestSet;
  functions: HostedFunction[] = [];
  dispatchers: Dispatcher[] = [];
  scaling: ScalingState[] = [];
  private crons: Cron[] = [];
  private timers: NodeJS.Timeout[] = [];
  private polls: Array<() => Promise<void>> = [];
  private server?: http.Server;
  private brokers?: string[];
  private kafka?: KafkaBus;
  url = '';

  constructor(private readonly options: BundleOptions) {}

  fn(name: string): HostedFunction {
    const f = this.functions.find((x) => x.name === name);
    if (!f) throw new Error(`no function ${name} in the bundle`);
    return f;
  }

  sinkUrl(ref: SinkRef, where: string): string {
    if (ref.uri) return ref.uri;
    const f = this.functions.find((x) => x.name === ref.service);
    if (!f) throw new Error(`${where} points at Service ${ref.service}, which knative/ does not declare`);
    return ref.path ? new URL(ref.path, f.url + '/').href : f.url;
  }

  async start(): Promise<this> {
    this.manifests = loadManifests(this.options.manifestsDir);
    for (const service of this.manifests.services) this.functions.push(await hostFunction(service, this.options.functionLogLevel));
    this.checkRoutes();

    const brokers = kafkaBrokers();
    this.brokers = brokers;
    for (const source of this.manifests.kafkaSources) {
      const binding = {
        source,
        sinkUrl: this.sinkUrl(source.sink, `KafkaSource ${source.name} spec.sink`),
        deadLetterUrl: source.delivery.deadLetterSink ? this.sinkUrl(source.delivery.deadLetterSink, `KafkaSource ${source.name} spec.delivery.deadLetterSink`) : undefined,
      };
      const d = brokers ? new KafkaDispatcher(binding, brokers) : new MemoryDispatcher(binding);
      this.dispatchers.push(d);
      const so = this.manifests.scaledObjects.find((x) => x.target.kind === 'KafkaSource' && x.target.name === source.name);
      if (so) await this.autoscale(d, so);
      else await d.setReplicas(source.consumers);
    }
    if (this.options.schedules !== false) {
      for (const ping of this.manifests.pingSources) this.crons.push(schedulePing(ping, this.sinkUrl(ping.sink, `PingSource ${ping.name} spec.sink`)));
    }

    this.server = http.createServer((req, res) => this.serve(req, res).catch((err) => {
      logger.error({ err }, 'gateway failed');
      if (!res.headersSent) sendProblem(res, 502, 'Bad Gateway', 'the function could not be reached');
    }));
    // An oversize header or a broken request line: problem+json, and the client may finish sending first.
    this.server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => this.server!.listen(this.options.port, this.options.host ?? '0.0.0.0', resolve));
    const addr = this.server.address() as { port: number };
    this.url = `http://localhost:${addr.port}`;
    // The trace page names the place each server span ran in by the port it was received on.
    traceRing.places = new Map([[addr.port, 'gateway'], ...this.functions.map((f) => [Number(new URL(f.url).port), f.name] as [number, string])]);
    return this;
  }

  /** KEDA's loop for one ScaledObject: read the group's lag every pollingInterval, run that many consumers. */
  private async autoscale(d: Dispatcher, so: ManifestSet['scaledObjects'][number]): Promise<void> {
    const rule = ruleOf(so);
    const scaler = new Scaler(rule);
    const state: ScalingState = { scaledObject: so.name, kafkaSource: d.source.name, topic: so.kafka!.topic, consumerGroup: so.kafka!.consumerGroup, replicas: 0 };
    this.scaling.push(state);
    const poll = async () => {
      try {
        const reading = readLag((await d.offsets()).filter((_, i, all) => all.length > 0), rule);
        const decision = scaler.decide(reading.lag, Date.now());
        Object.assign(state, { reading, decision, at: new Date().toISOString(), error: undefined });
        if (decision.replicas !== d.replicas) {
          logger.info({ scaledObject: so.name, lag: reading.lag, from: d.replicas, to: decision.replicas, reason: decision.reason }, 'KEDA rule rescales the consumer group');
          await d.setReplicas(decision.replicas);
        }
        state.replicas = d.replicas;
      } catch (err) {
        state.error = String(err);
        logger.warn({ scaledObject: so.name, err: String(err) }, 'could not read the consumer lag');
      }
    };
    await poll();
    this.polls.push(poll);
    const timer = setInterval(() => void poll(), rule.pollingIntervalS * 1000);
    timer.unref();
    this.timers.push(timer);
  }

  /** Runs every ScaledObject's poll now instead of at its next pollingInterval tick. */
  async pollScalers(): Promise<void> {
    for (const p of this.polls) await p();
  }

  /** Route functions must declare the path the HTTPRoute gives them, so docs and gateway agree. */
  private checkRoutes(): void {
    for (const rule of this.manifests.routes) {
      const fn = this.functions.find((f) => f.name === rule.service);
      if (!fn) throw new Error(`${rule.file}: HTTPRoute ${rule.route} sends ${rule.path} to Service ${rule.service}, which is not declared`);
      if (fn.route && (fn.route.path !== rule.path || (rule.method && rule.method !== fn.route.method))) {
        throw new Error(`${rule.file}: HTTPRoute sends ${rule.method ?? '*'} ${rule.path} to ${fn.name}, but the function declares ${fn.route.method} ${fn.route.path}`);
      }
    }
  }

  /** Fires a PingSource now (operators' "run it now", and tests). */
  async ping(name: string): Promise<number | undefined> {
    const p = this.manifests.pingSources.find((x) => x.name === name);
    if (!p) throw new Error(`no PingSource ${name}`);
    return firePing(p, this.sinkUrl(p.sink, `PingSource ${name}`));
  }

  listing() {
    return this.functions.map((f) => ({
      name: f.name,
      system: f.system,
      kind: f.kind,
      visibility: clusterLocal(f) ? 'cluster-local' : 'public',
      folder: f.dir,
      url: `${this.url}/functions/${f.name}`,
      health: `${this.url}/functions/${f.name}/health/readiness`,
      metrics: `${this.url}/functions/${f.name}/metrics`,
      routes: this.manifests.routes.filter((r) => r.service === f.name).map((r) => `${r.method ?? f.route?.method ?? '*'} ${this.url}${r.path}`),
      topics: this.manifests.kafkaSources.filter((s) => s.sink.service === f.name).flatMap((s) => s.topics.map((t) => `${t} (KafkaSource ${s.name})`)),
      schedules: this.manifests.pingSources.filter((s) => s.sink.service === f.name).map((s) => `${s.schedule}${s.timezone ? ` ${s.timezone}` : ''} (PingSource ${s.name})`),
      scale: f.service.annotations,
    }));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const pathname = url.pathname.replace(/\/+$/, '') || '/';
    if (pathname === '/openapi.json') return sendJson(res, 200, openApiDocument(this.manifests.routes, this.functions, this.url));
    if (pathname === '/functions' && req.method === 'GET') return sendJson(res, 200, { functions: this.listing() });
    if (pathname === '/' && req.method === 'GET') return sendHtml(res, this.indexPage());
    if (pathname === '/health') return this.health(res);
    if (pathname === '/keda') return sendJson(res, 200, { scaledObjects: this.scaling });

    // The gateway's own refusals read the request's body first (bounded), so the client reads the answer.
    const refuse = async (status: number, title: string, detail: string, headers?: Record<string, string>) => {
      const drained = await drainRequest(req);
      sendProblem(res, status, title, detail, { ...headers, ...(drained ? {} : { connection: 'close' }) });
    };

    // Recent traces, to this machine only (like the topics: what the cluster's collector would hold).
    if (/^\/traces(\.json|\/|$)/.test(pathname) && fromThisMachine(req) && req.method === 'GET' && serveTraces(res, pathname)) return;

    const local = this.options.localPages?.[pathname];
    if (local && fromThisMachine(req) && req.method === 'GET') return local(req, res);

    const topic = /^\/topics\/([^/]*)$/.exec(pathname);
    // Not on the laptop's network: the topics are the cluster's, not the portal's.
    if (topic && fromThisMachine(req)) return this.putOnTopic(req, res, topic[1], url.searchParams);

    const direct = /^\/functions\/([a-z0-9-]+)(\/.*)?$/.exec(pathname);
    if (direct) {
      const fn = this.functions.find((f) => f.name === direct[1]);
      // A cluster-local Service has no public address: only this machine reaches it (as only the cluster does).
      // Metrics are the cluster's (Prometheus scrapes the pod, the portal's route never reaches /metrics).
      if (!fn || ((clusterLocal(fn) || direct[2] === '/metrics') && !fromThisMachine(req))) return refuse(404, 'Not Found', `no function ${direct[1]}; see /functions`);
      return proxy(req, res, fn.url + (direct[2] ?? '/') + url.search);
    }

    const candidates = this.manifests.routes.filter((r) => (r.pathType === 'Exact' ? pathname === r.path : pathname === r.path || pathname.startsWith(r.path + '/')));
    // A preflight goes to the function of the method it asks about (one path may have a GET and a POST function).
    const asked = req.method === 'OPTIONS' ? String(req.headers['access-control-request-method'] ?? '').toUpperCase() : undefined;
    const rule = candidates.find((r) => !r.method || r.method === req.method || (asked !== undefined && r.method === asked))
      ?? (req.method === 'OPTIONS' ? candidates[0] : undefined);
    if (rule) return proxy(req, res, this.sinkUrl({ service: rule.service }, rule.file) + '/' + url.search);
    if (candidates.length) {
      const allow = [...new Set(candidates.map((r) => r.method ?? 'GET'))].join(', ');
      return refuse(405, 'Method Not Allowed', `${req.method} ${pathname}: use ${allow}`, { allow });
    }
    return refuse(404, 'Not Found', `no route ${req.method} ${pathname}; see /openapi.json`);
  }

  /**
   * POST /topics/<topic>: one record on a topic of the bundle, through the same bus the functions publish to
   * (the in-process bus, or KAFKA_BROKERS), so the KafkaSource wiring delivers it. The body is a CloudEvent in
   * structured mode (application/cloudevents+json) or binary mode (ce-* headers), stored in the Kafka binding's
   * binary mode as the outbox stores events, or any JSON value, or text on a topic that carries no CloudEvent
   * contract (an HL7 v2 message on lis-sample-status, as the LIS writes them), stored as it is with its content
   * type. The record key is ?key=, else
   * the event's partitionkey, else the catalogue's key field of its data.
   */
  private async putOnTopic(req: IncomingMessage, res: ServerResponse, topic: string, query: URLSearchParams): Promise<void> {
    const declared = new Set(Object.values(eventTypes).map((e) => e.topic));
    const known = new Set([...declared, ...this.manifests.kafkaSources.flatMap((s) => s.topics)]);
    if (req.method !== 'POST') {
      await drainRequest(req);
      return sendProblem(res, 405, 'Method Not Allowed', `${req.method} /topics/${topic}: use POST`, { allow: 'POST' });
    }
    if (!known.has(topic)) {
      await drainRequest(req);
      return sendProblem(res, 404, 'Not Found', `no topic ${topic}; topics: ${[...known].join(', ')}`, {}, [{ name: 'path/topic', reason: 'is not a topic of this bundle' }]);
    }
    const body = await readBody(req, res);
    if (body === undefined) return;
    const text = body.toString('utf8');
    if (jsonTextDepth(text) > MAX_JSON_DEPTH) {
      return sendProblem(res, 400, 'JSON Too Deeply Nested', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`, {}, [{ name: 'body', reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    let event: CloudEvent<unknown> | undefined;
    let record: BusRecord;
    try {
      if (type === 'application/cloudevents+json') event = new CloudEvent<unknown>(JSON.parse(text));
      else if (req.headers['ce-specversion'] !== undefined) event = HTTP.toEvent({ headers: req.headers, body: text }) as CloudEvent<unknown>;
      else if (type === 'application/json' || type.endsWith('+json')) JSON.parse(text);
      else if (!TEXT_RECORDS.has(type) || declared.has(topic)) return sendProblem(res, 415, 'Unsupported Media Type', `send a CloudEvent (application/cloudevents+json, or ce-* headers) or a JSON value${declared.has(topic) ? '' : `, or text (${[...TEXT_RECORDS].join(', ')})`}`, {}, [{ name: 'header/content-type', reason: declared.has(topic) ? 'must be JSON' : 'must be JSON or text' }]);
    } catch (err) {
      const malformed = err instanceof SyntaxError;
      return sendProblem(res, 400, malformed ? 'Malformed JSON' : 'Invalid CloudEvent', String((err as Error).message ?? err), {}, [
        { name: malformed ? 'body' : 'cloudevent', reason: malformed ? 'is not valid JSON' : String((err as Error).message ?? err) },
      ]);
    }
    if (event) {
      const ext = event as unknown as Record<string, unknown>;
      const keyField = (eventTypes as Record<string, { key: string } | undefined>)[event.type]?.key;
      const fromData = keyField && event.data && typeof event.data === 'object' ? (event.data as Record<string, unknown>)[keyField] : undefined;
      const key = query.get('key') ?? (typeof ext.partitionkey === 'string' ? ext.partitionkey : typeof fromData === 'string' ? fromData : null);
      record = kafkaRecord(topic, key, event);
    } else {
      record = { topic, key: query.get('key'), headers: { 'content-type': type }, value: text };
    }
    let at: { partition: number; offset: number };
    try {
      at = await this.produce(record);
    } catch (err) {
      logger.warn({ topic, err: String(err) }, 'could not put the record on its topic');
      return sendProblem(res, 503, 'Service Unavailable', `Kafka did not take the record: ${String(err)}`, { 'retry-after': '5' });
    }
    logger.info({ topic, ...at, key: record.key, ...(event ? { event: { id: event.id, type: event.type } } : {}) }, 'record put on topic through the gateway');
    sendJson(res, 202, { topic, ...at, key: record.key, ...(event ? { event: { id: event.id, type: event.type, source: event.source } } : {}) });
  }

  /** Appends to the in-process bus, or produces to Kafka (acks all), and says where the record landed. */
  private async produce(record: BusRecord): Promise<{ partition: number; offset: number }> {
    if (!this.brokers) {
      const [at] = memoryBus.append([record]);
      return { partition: at.partition, offset: at.offset };
    }
    this.kafka ??= new KafkaBus(this.brokers);
    const [at] = await this.kafka.publish([record]);
    return { partition: at.partition, offset: at.offset };
  }

  private async health(res: ServerResponse): Promise<void> {
    const results = await Promise.all(this.functions.map(async (f) => {
      try {
        const r = await fetch(`${f.url}/health/readiness`, { signal: AbortSignal.timeout(2000) });
        return { name: f.name, ready: r.ok };
      } catch {
        return { name: f.name, ready: false };
      }
    }));
    const ok = results.every((r) => r.ready);
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'degraded', functions: results });
  }

  private indexPage(): string {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
    const rows = this.listing().map((f) => `<tr><td>${esc(f.system)}</td><td><a href="${esc(f.url)}/health/readiness">${esc(f.name)}</a></td><td>${esc(f.kind)}</td>` +
      `<td>${[...f.routes, ...f.topics, ...f.schedules].map(esc).join('<br>')}</td><td><code>${esc(f.url)}</code></td><td><a href="${esc(f.metrics)}">/metrics</a></td></tr>`).join('\n');
    return `<!doctype html><html><head><meta charset="utf-8"><title>Patient portal functions</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}</style></head>
<body><h1>Patient portal functions</h1><p>${this.functions.length} functions from knative/. API description: <a href="/openapi.json">/openapi.json</a> · JSON listing: <a href="/functions">/functions</a> · <a href="/health">/health</a> · recent traces: <a href="/traces">/traces</a></p>
<table><tr><th>system</th><th>function</th><th>kind</th><th>trigger</th><th>function URL</th><th>metrics</th></tr>
${rows}</table></body></html>`;
  }

  async stop(): Promise<void> {
    for (const c of this.crons) c.stop();
    for (const t of this.timers) clearInterval(t);
    for (const d of this.dispatchers) await d.stop();
    await this.kafka?.close().catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    for (const f of this.functions) await f.close();
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body, null, 2));
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

function sendProblem(res: ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}, invalidParams?: InvalidParam[]): void {
  const r = new Problem(status, title, detail, invalidParams).response(headers);
  res.writeHead(r.statusCode, r.headers).end(JSON.stringify(r.body));
}

/** Knative's label for a Service with no public address (consumers, jobs, sinks: reached by eventing only). */
export const VISIBILITY_LABEL = 'networking.knative.dev/visibility';

function clusterLocal(f: HostedFunction): boolean {
  return f.service.doc.metadata.labels?.[VISIBILITY_LABEL] === 'cluster-local';
}

/** A request from this machine (loopback): on a laptop, what "inside the cluster" stands for. */
export function fromThisMachine(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** The whole body up to the gateway's limit; over it, 413 once the rest has been read (and undefined). */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  const fits = await new Promise<boolean>((resolve) => {
    if (Number(req.headers['content-length'] ?? 0) > GATEWAY_BODY_LIMIT) return resolve(false);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_BODY_LIMIT) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd);
      resolve(false);
    };
    const onEnd = () => resolve(true);
    req.on('data', onData).on('end', onEnd).on('error', () => resolve(false));
  });
  if (fits) return Buffer.concat(chunks);
  await refuseTooLarge(req, res);
  return undefined;
}

/** 413 once the client has finished sending (bounded), so it reads the answer instead of a reset. */
async function refuseTooLarge(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const drained = await drainRequest(req);
  if (res.headersSent || res.destroyed) return;
  sendProblem(res, 413, 'Content Too Large', `request bodies are limited to ${GATEWAY_BODY_LIMIT} bytes`, drained ? {} : { connection: 'close' }, [{ name: 'body', reason: 'too large' }]);
}

/** The largest body the gateway forwards; faas-js-runtime's own default limit. */
export const GATEWAY_BODY_LIMIT = 1024 * 1024;

/**
 * Forwards the request to a function at its root path, as the gateway's ReplaceFullPath rewrite does. A body
 * over the limit (declared, or counted as it streams) is answered 413 here, after the rest of it has been
 * read; a function that answers before reading the whole body has its answer passed on, not a 502.
 */
function proxy(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > GATEWAY_BODY_LIMIT) return void refuseTooLarge(req, res).then(resolve);
    const headers = { ...req.headers };
    delete headers.host;
    let sent = 0;
    let refused = false;
    const upstream = http.request(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', () => resolve());
      up.on('error', () => { res.destroy(); resolve(); });
    });
    upstream.on('error', () => {
      if (refused) return;
      if (!res.headersSent) sendProblem(res, 502, 'Bad Gateway', 'the function could not be reached');
      else res.end();
      resolve();
    });
    const count = (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > GATEWAY_BODY_LIMIT && !res.headersSent) {
        refused = true;
        req.off('data', count);
        req.unpipe(upstream);
        upstream.destroy();
        void refuseTooLarge(req, res).then(resolve);
      }
    };
    req.on('data', count);
    req.pipe(upstream);
  });
}
