// npm start's trace viewer: the most recent traces kept in memory (a bounded ring, the span exporter of the
// laptop) and served by the gateway, to this machine only: GET /traces lists them, /traces/<traceId> draws
// one as a waterfall (span, where it ran, duration, status), /traces/<traceId>.json and /traces.json give
// the same as JSON. In a cluster spans go to the OpenTelemetry Collector instead (knative/observability).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { tracing } from '../../../functions/shared/telemetry';

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  /** The function, KafkaSource or gateway the span ran in. */
  where: string;
  start: string;
  /** Milliseconds from the start of the trace. */
  offsetMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  depth: number;
  attributes: Attributes;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface TraceSummary {
  traceId: string;
  root: string;
  where: string;
  start: string;
  durationMs: number;
  spans: number;
  errors: number;
}

const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
/** An HTTP span is named by its method alone; the page adds the path it was for. */
const label = (s: { name: string; attributes: Attributes }) => (typeof s.attributes['url.path'] === 'string' && !s.name.includes(' ') ? `${s.name} ${s.attributes['url.path']}` : s.name);
const round = (n: number) => Math.round(n * 1000) / 1000;

/** A bounded ring of recent traces; the oldest trace goes when a new one would exceed `maxTraces`. */
export class TraceRing implements SpanExporter {
  private readonly traces = new Map<string, ReadableSpan[]>();
  /** Which function (or the gateway) listens on each port of the bundle, to place the server spans. */
  places = new Map<number, string>();

  constructor(readonly maxTraces = 100, readonly maxSpansPerTrace = 2000) {}

  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    for (const span of spans) {
      const id = span.spanContext().traceId;
      let list = this.traces.get(id);
      if (!list) {
        this.traces.set(id, (list = []));
        if (this.traces.size > this.maxTraces) this.traces.delete(this.traces.keys().next().value!);
      }
      if (list.length < this.maxSpansPerTrace) list.push(span);
    }
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}

  /** The spans of one trace, parents before children, siblings by start time. */
  trace(traceId: string): SpanView[] | undefined {
    const spans = this.traces.get(traceId);
    if (!spans) return undefined;
    const start = Math.min(...spans.map((s) => ms(s.startTime)));
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const children = new Map<string | undefined, ReadableSpan[]>();
    for (const s of spans) {
      const parent = s.parentSpanContext?.spanId;
      const key = parent && byId.has(parent) ? parent : undefined;
      children.set(key, [...(children.get(key) ?? []), s]);
    }
    const whereOf = new Map<string, string>();
    const out: SpanView[] = [];
    const visit = (s: ReadableSpan, depth: number, parentWhere: string | undefined) => {
      const where = this.where(s, parentWhere);
      whereOf.set(s.spanContext().spanId, where);
      out.push({
        traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId,
        name: s.name,
        kind: SpanKind[s.kind].toLowerCase(),
        where,
        start: new Date(ms(s.startTime)).toISOString(),
        offsetMs: round(ms(s.startTime) - start),
        durationMs: round(ms(s.duration)),
        status: s.status.code === SpanStatusCode.ERROR ? 'error' : s.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
        depth,
        attributes: s.attributes,
        links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
      });
      const next = (children.get(s.spanContext().spanId) ?? []).sort((a, b) => ms(a.startTime) - ms(b.startTime));
      for (const c of next) visit(c, depth + 1, where);
    };
    for (const root of (children.get(undefined) ?? []).sort((a, b) => ms(a.startTime) - ms(b.startTime))) visit(root, 0, undefined);
    return out;
  }

  /** Newest first. */
  list(): TraceSummary[] {
    return [...this.traces.keys()].reverse().map((id) => {
      const spans = this.trace(id)!;
      const root = spans[0];
      const end = Math.max(...spans.map((s) => s.offsetMs + s.durationMs));
      return {
        traceId: id,
        root: label(root),
        where: root.where,
        start: root.start,
        durationMs: round(end),
        spans: spans.length,
        errors: spans.filter((s) => s.status === 'error').length,
      };
    });
  }

  /** The function or source a span names, else the server it was received on, else its parent's place. */
  private where(s: ReadableSpan, parent: string | undefined): string {
    const a = s.attributes;
    if (typeof a['faas.name'] === 'string') return a['faas.name'];
    if (typeof a['knative.source'] === 'string') return a['knative.source'];
    // On a laptop only the KafkaSources consume with kafkajs (its instrumentation's receive span).
    if (s.kind === SpanKind.CONSUMER && a['messaging.system'] === 'kafka') return `KafkaSource (${String(a['messaging.destination.name'])})`;
    const port = a['server.port'];
    if (s.kind === SpanKind.SERVER && typeof port === 'number' && this.places.has(port)) return this.places.get(port)!;
    return parent ?? String(s.resource.attributes['service.name'] ?? '?');
  }

  clear(): void {
    this.traces.clear();
  }
}

/** npm start's ring: what its gateway serves at /traces. */
export const traceRing = new TraceRing();

const GATEWAY_PAGES = /^\/(functions|openapi\.json|health|keda|favicon\.ico|traces(\.json|\/.*)?)?\/?$/;

/** The gateway's own pages (listing, /traces, health…) are not patient actions: they start no trace. */
export function isGatewayPage(req: IncomingMessage, ring: TraceRing = traceRing): boolean {
  return ring.places.get(req.socket.localPort ?? -1) === 'gateway' && GATEWAY_PAGES.test((req.url ?? '/').split('?')[0]);
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.bar{position:relative;height:.9rem;background:#f3f3f3;min-width:20rem}.bar span{position:absolute;top:0;bottom:0;background:#4a7fd4;min-width:2px}.error .bar span{background:#d44a4a}.error td.status{color:#b00}
code{font-size:.85rem}`;

/** GET /traces, /traces.json, /traces/<id>, /traces/<id>.json; false when the path is not one of them. */
export function serveTraces(res: ServerResponse, pathname: string, ring: TraceRing = traceRing): boolean {
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body, null, 2));
  const html = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  const off = tracing() === undefined ? 'Tracing is off in this process (OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none).' : undefined;
  if (pathname === '/traces.json') {
    json(200, { tracing: off ? 'off' : 'on', traces: ring.list() });
    return true;
  }
  if (pathname === '/traces') {
    html(200, listPage(ring.list(), off));
    return true;
  }
  const one = /^\/traces\/([0-9a-f]{32})(\.json)?$/.exec(pathname);
  if (!one) return false;
  const spans = ring.trace(one[1]);
  if (!spans) {
    if (one[2]) json(404, { type: 'about:blank', title: 'Not Found', status: 404, detail: `no trace ${one[1]} among the recent ones (see /traces)` });
    else html(404, `<!doctype html><p>No trace ${esc(one[1])} among the recent ones. <a href="/traces">Recent traces</a></p>`);
    return true;
  }
  if (one[2]) json(200, { traceId: one[1], spans });
  else html(200, waterfallPage(one[1], spans));
  return true;
}

function listPage(traces: TraceSummary[], off?: string): string {
  const rows = traces.map((t) => `<tr class="${t.errors ? 'error' : ''}"><td>${esc(t.start.slice(11, 23))}</td><td><a href="/traces/${t.traceId}">${esc(t.root)}</a></td>` +
    `<td>${esc(t.where)}</td><td>${t.durationMs.toFixed(1)} ms</td><td>${t.spans}</td><td class="status">${t.errors ? `${t.errors} error(s)` : 'ok'}</td></tr>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Recent traces</title><style>${STYLE}</style></head>
<body><h1>Recent traces</h1><p>${off ? esc(off) : `The last ${traces.length} traces of this bundle, newest first (kept in memory). JSON: <a href="/traces.json">/traces.json</a> · <a href="/">functions</a>`}</p>
<table><tr><th>started (UTC)</th><th>root span</th><th>where</th><th>duration</th><th>spans</th><th>status</th></tr>
${rows}</table></body></html>`;
}

function waterfallPage(traceId: string, spans: SpanView[]): string {
  const total = Math.max(...spans.map((s) => s.offsetMs + s.durationMs), 0.001);
  const rows = spans.map((s) => {
    const left = (s.offsetMs / total) * 100;
    const width = Math.max((s.durationMs / total) * 100, 0.2);
    const attrs = esc(Object.entries(s.attributes).map(([k, v]) => `${k}=${String(v)}`).join('\n'));
    return `<tr class="${s.status === 'error' ? 'error' : ''}"><td style="padding-left:${0.5 + s.depth * 1.1}rem" title="${attrs}">${esc(label(s))}</td><td>${esc(s.where)}</td>` +
      `<td>${s.durationMs.toFixed(2)} ms</td><td class="status">${s.status}</td><td><div class="bar"><span style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></div></td></tr>`;
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Trace ${traceId}</title><style>${STYLE}</style></head>
<body><h1>Trace <code>${traceId}</code></h1><p>${spans.length} spans over ${total.toFixed(1)} ms. Hover a span for its attributes. <a href="/traces">Recent traces</a> · <a href="/traces/${traceId}.json">JSON</a></p>
<table><tr><th>span</th><th>where</th><th>duration</th><th>status</th><th>timeline</th></tr>
${rows}</table></body></html>`;
}
