// Tracing: one OpenTelemetry trace per patient action, from the HTTP request through its transaction, the
// outbox, Kafka and the KafkaSource to the consumer and the events it emits. Configured by the standard
// OTEL_* variables (tracingSettings); when tracing is off nothing but @opentelemetry/api (a few no-op
// functions) is loaded, and every helper here is a pass-through, because cold start and per-request cost
// are budgeted. The SDK, the exporter and the official instrumentations (http, pg, kafkajs) are required
// only by startTelemetry(), which must run before http, pg and kafkajs are first required (telemetry-preload
// in a container, the first import of npm start).
//
// No PHI in spans: the kit records ids, types and outcomes, never request bodies, event data or SQL values
// (pg records statement text only, and every query is parameterised).
import { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';

/** W3C trace context as it travels: an HTTP header pair, two CloudEvent extensions, two Kafka headers. */
export interface TraceCarrier {
  traceparent?: string | null;
  tracestate?: string | null;
}

export type Exporter = 'otlp' | 'console' | 'memory';
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export interface TracingSettings {
  exporters: Exporter[];
  sampler: SamplerName;
  ratio: number;
  /** service.name: the function (Knative's K_SERVICE), else the bundle. */
  serviceName: string;
  /** service.namespace: the function's system, read from its folder (the image's working directory). */
  system: string;
}

const SAMPLERS = new Set<string>(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']);

/**
 * What the OTEL_* variables ask for; undefined when tracing is off. A function traces once it is given
 * somewhere to send spans (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, or OTEL_TRACES_EXPORTER): a bare
 * `node cli.js index.js` loads no SDK. A laptop (npm start) keeps spans in memory for its /traces page and
 * samples every trace unless told otherwise. OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off.
 */
export function tracingSettings(env: NodeJS.ProcessEnv = process.env, laptop = false, cwd = process.cwd()): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const endpoint = Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const named = env.OTEL_TRACES_EXPORTER?.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (named?.includes('none')) return undefined;
  const exporters = new Set<Exporter>();
  for (const e of named ?? (endpoint ? ['otlp'] : [])) {
    if (e !== 'otlp' && e !== 'console') throw new Error(`OTEL_TRACES_EXPORTER: ${e} is not supported here (otlp, console or none)`);
    exporters.add(e);
  }
  if (laptop) exporters.add('memory');
  if (!exporters.size) return undefined;
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || (laptop ? 'always_on' : 'parentbased_always_on');
  if (!SAMPLERS.has(sampler)) throw new Error(`OTEL_TRACES_SAMPLER: ${sampler} is not one of ${[...SAMPLERS].join(', ')}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG === undefined || env.OTEL_TRACES_SAMPLER_ARG === '' ? 1 : Number(env.OTEL_TRACES_SAMPLER_ARG);
  if (!(arg >= 0 && arg <= 1)) throw new Error(`OTEL_TRACES_SAMPLER_ARG: ${env.OTEL_TRACES_SAMPLER_ARG} is not a ratio between 0 and 1`);
  return {
    exporters: [...exporters],
    sampler: sampler as SamplerName,
    ratio: arg,
    serviceName: env.OTEL_SERVICE_NAME || env.K_SERVICE || env.FUNCTION_NAME || 'patient-portal',
    system: systemOf(cwd),
  };
}

/** The system of a function started in its folder (…/functions/<system>/<function>), else the whole bundle. */
export const systemOf = (dir: string): string => /[\\/]functions[\\/]([a-z0-9-]+)[\\/][a-z0-9-]+[\\/]?$/.exec(dir)?.[1] ?? 'patient-portal';

export interface TelemetryOptions {
  /** npm start: keep spans in memory (this exporter) and sample every trace by default. */
  laptopExporter?: SpanExporter;
  /** Incoming requests that start no trace besides health probes (the laptop gateway's own pages). */
  ignoreIncoming?: (req: IncomingMessage) => boolean;
  env?: NodeJS.ProcessEnv;
}

// Per process, not per module: an image's preload and its function's bundle each carry a copy of this
// module (scripts/build.ts), and both must see the tracing the preload started.
const state: { provider?: { forceFlush(): Promise<void>; shutdown(): Promise<void> }; settings?: TracingSettings } =
  ((globalThis as Record<symbol, unknown>)[Symbol.for('patient-portal.telemetry')] ??= {}) as never;

/** True once startTelemetry() has switched tracing on in this process. */
export const tracingOn = (): boolean => state.provider !== undefined;

/** The settings tracing runs with, or undefined when it is off. */
export const tracing = (): TracingSettings | undefined => state.settings;

const HEALTH = /^\/health(\/|$)/;

/**
 * Starts tracing when the settings ask for it (once per process) and says what it started. Loads the SDK
 * and the instrumentations here and only here, so a process without tracing never loads them.
 */
export function startTelemetry(options: TelemetryOptions = {}): TracingSettings | undefined {
  if (state.provider) return state.settings;
  const found = tracingSettings(options.env ?? process.env, Boolean(options.laptopExporter));
  if (!found) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const sdk = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { resourceFromAttributes, detectResources, envDetector } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const env = options.env ?? process.env;
  const processors: SpanProcessor[] = [];
  if (options.laptopExporter) processors.push(new sdk.SimpleSpanProcessor({ exporter: options.laptopExporter }));
  if (found.exporters.includes('otlp')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
    processors.push(new sdk.BatchSpanProcessor({
      exporter: new OTLPTraceExporter(),
      scheduledDelayMillis: num('OTEL_BSP_SCHEDULE_DELAY'),
      maxQueueSize: num('OTEL_BSP_MAX_QUEUE_SIZE'),
      maxExportBatchSize: num('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      exportTimeoutMillis: num('OTEL_BSP_EXPORT_TIMEOUT'),
    }));
  }
  if (found.exporters.includes('console')) processors.push(new sdk.SimpleSpanProcessor({ exporter: new sdk.ConsoleSpanExporter() }));

  const ratio = new sdk.TraceIdRatioBasedSampler(found.ratio);
  const root = { always_on: new sdk.AlwaysOnSampler(), always_off: new sdk.AlwaysOffSampler(), traceidratio: ratio }[found.sampler.replace('parentbased_', '') as 'always_on' | 'always_off' | 'traceidratio'];
  const sampler = found.sampler.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root }) : root;

  const tracerProvider = new sdk.TracerProvider({
    sampler,
    spanProcessors: processors,
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over the defaults (K_SERVICE is Knative's Service
    // name). The collector routes each system's spans by service.namespace (knative/observability).
    resource: resourceFromAttributes({ 'service.name': found.serviceName, 'service.namespace': found.system }).merge(detectResources({ detectors: [envDetector] })),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  const ignored = options.ignoreIncoming;
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes (Knative's every few seconds) are not patient actions.
        ignoreIncomingRequestHook: (req) => {
          return HEALTH.test((req.url ?? '/').split('?')[0]) || Boolean(ignored?.(req));
        },
      }),
      // Statement text only (parameterised: no values), and only inside a trace: no root spans for pool chatter.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      // The instrumentation injects the context active at sendBatch into every message's headers; for a batch
      // of outbox rows from several patient actions that is the batch's, not each row's. A record that carries
      // its event's context (ce_traceparent) keeps it as its traceparent header too (see kafkaRecord).
      new KafkaJsInstrumentation({
        producerHook: (_span, { message }) => {
          const headers = message.headers;
          const own = headers?.ce_traceparent;
          if (!headers || own === undefined) return;
          headers.traceparent = own;
          if (headers.ce_tracestate !== undefined) headers.tracestate = headers.ce_tracestate;
          else delete headers.tracestate;
        },
      }),
    ],
  });
  state.provider = tracerProvider;
  state.settings = found;
  return found;
}

/** Sends what is buffered (tests, shutdown); resolves at once when tracing is off. */
export async function flushTelemetry(): Promise<void> {
  await state.provider?.forceFlush();
}

const tracer = () => trace.getTracer('patient-portal-kit');

/** The active span's context as W3C strings, to store with an outbox row or put on a record. */
export function activeTraceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!state.provider) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate ?? null } : undefined;
}

/** A context whose parent is the carried span, or undefined when nothing valid is carried (or tracing is off). */
export function contextFrom(carrier: TraceCarrier | undefined): Context | undefined {
  if (!state.provider || !carrier?.traceparent) return undefined;
  const ctx = propagation.extract(ROOT_CONTEXT, { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) });
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** Adds traceparent (and tracestate) of the active span to outgoing HTTP headers; nothing when tracing is off. */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  if (state.provider) propagation.inject(context.active(), headers);
  return headers;
}

/** trace_id and span_id of the active span, for log lines (pino mixin); {} when there is none. */
export function logTraceFields(): { trace_id?: string; span_id?: string } {
  if (!state.provider) return {};
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

export interface SpanSpec {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; default the active one. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs work in a new active span, ended when the work settles; a throw marks it ERROR with the error's
 * class only (messages can quote values). When tracing is off the work runs as it is, with no span.
 */
export async function inSpan<T>(name: string, spec: SpanSpec, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!state.provider) return work(undefined);
  const span = tracer().startSpan(name, { kind: spec.kind ?? SpanKind.INTERNAL, attributes: spec.attributes, links: spec.links }, spec.parent ?? context.active());
  try {
    return await context.with(trace.setSpan(spec.parent ?? context.active(), span), () => work(span));
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span ERROR naming the error's class (or a status), never its message. */
export function failed(span: Span | undefined, err: unknown): void {
  const type = typeof err === 'string' ? err : (err as { name?: string; code?: string })?.code ?? (err as Error)?.constructor?.name ?? 'Error';
  span?.setAttribute('error.type', String(type));
  span?.setStatus({ code: SpanStatusCode.ERROR });
}

/** A started span of its own (not active): what the outbox publisher opens per row. */
export function startSpan(name: string, spec: SpanSpec): Span | undefined {
  if (!state.provider) return undefined;
  return tracer().startSpan(name, { kind: spec.kind ?? SpanKind.INTERNAL, attributes: spec.attributes, links: spec.links }, spec.parent ?? context.active());
}

/** Runs work with the span active (or as it is, without one). */
export function withSpan<T>(span: Span | undefined, work: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), work) : work();
}

/** The span's W3C context as strings. */
export const carrierOf = (span: Span | undefined): TraceCarrier | undefined => (span ? activeTraceCarrier(trace.setSpan(ROOT_CONTEXT, span)) : undefined);

export { SpanKind, SpanStatusCode };

export interface PublishItem {
  /** The context stored with the event (the outbox row's), if any. */
  parent?: TraceCarrier | null;
  name: string;
  attributes: Attributes;
}

/**
 * Publishing a batch of events, each continuing its own trace: one PRODUCER span per event, a child of the
 * context stored with it (so a patient action's trace goes on even when the batch publisher sends its
 * event a minute later from another process). `send` gets each event's context to put on its record. A
 * batch from one trace sends inside its first event's span; a batch mixing traces sends inside a span of
 * the publisher's own trace with a link to every event's span (OpenTelemetry's messaging conventions for
 * batches), since one send cannot be the child of several traces. With tracing off, each event keeps the
 * context it was stored with.
 */
export async function publishTraced<T>(items: PublishItem[], send: (carriers: Array<TraceCarrier | undefined>) => Promise<T>): Promise<T> {
  if (!state.provider) return send(items.map((i) => (i.parent?.traceparent ? i.parent : undefined)));
  const spans = items.map((i) => startSpan(i.name, { kind: SpanKind.PRODUCER, parent: contextFrom(i.parent ?? undefined), attributes: i.attributes })!);
  const carriers = spans.map(carrierOf);
  const traces = new Set(spans.map((s) => s.spanContext().traceId));
  try {
    return traces.size === 1
      ? await withSpan(spans[0], () => send(carriers))
      : await inSpan(`send ${items.length} events`, { kind: SpanKind.PRODUCER, links: spans.map((s) => ({ context: s.spanContext() })) }, () => send(carriers));
  } catch (err) {
    for (const s of spans) failed(s, err);
    throw err;
  } finally {
    for (const s of spans) s.end();
  }
}

export interface Invocation {
  name: string;
  kind?: SpanKind;
  /** Parent when the HTTP request carried no trace of its own (a consumer's event does). */
  parent?: Context;
  attributes: Attributes;
  /** Answers from this status on mark the span ERROR (a consumer's 4xx dead-letters the event). */
  failedFrom: number;
}

/**
 * The span of one invocation of a function (route, consumer, job), around the kit's handler: named for
 * what it does, carrying the function's name and the status it answered. Off, the handler runs as it is.
 */
export function traced<A extends unknown[], R extends { statusCode: number }>(describe: (...args: NoInfer<A>) => Invocation, handle: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => {
    if (!state.provider) return handle(...args);
    const call = describe(...args);
    // The server span of the request stays reachable from a span parented elsewhere (an event's own trace).
    const server = call.parent ? trace.getSpanContext(context.active()) : undefined;
    return inSpan(call.name, { kind: call.kind, parent: call.parent, attributes: call.attributes, links: server ? [{ context: server }] : undefined }, async (span) => {
      const answer = await handle(...args);
      span?.setAttribute('http.response.status_code', answer.statusCode);
      if (answer.statusCode >= call.failedFrom) failed(span, String(answer.statusCode));
      return answer;
    });
  };
}

/** The W3C context a request's headers carry, if any (HTTP headers are lower-case in Node). */
export function headerCarrier(headers: Record<string, unknown> | undefined): TraceCarrier | undefined {
  const tp = headers?.traceparent;
  if (typeof tp !== 'string') return undefined;
  const ts = headers?.tracestate;
  return { traceparent: tp, tracestate: typeof ts === 'string' ? ts : null };
}
