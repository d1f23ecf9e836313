// faas-js-runtime owns the HTTP server, and its defaults answer errors it raises itself (malformed JSON,
// oversize bodies and headers, unknown paths, CORS) with plain JSON, "*" and a method list of its own.
// Fastify announces every new instance on the diagnostics channel "fastify.initialization"; the kit
// subscribes once and makes those answers problem+json, refuses hostile bodies before any handler sees them,
// and gives preflights and real answers the same CORS headers, without forking the runtime.
import { subscribe } from 'node:diagnostics_channel';
import { Transform } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Problem, PROBLEM_JSON as PROBLEM } from './errors';
import { allowedOrigins, MAX_BODY_BYTES, MAX_JSON_DEPTH } from './http-config';
import { instrumentRoute } from './metrics';

/**
 * A refused body is read to its end (and discarded) before the answer goes out: closing a connection with
 * unread bytes makes the kernel reset it, and the client sees a network error instead of the 413. Past
 * these bounds the connection is closed anyway.
 */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
export const DRAIN_MAX_MS = 10_000;

/** Reads what is left of a request body and throws it away; true when the body ended within the bounds. */
export function drainRequest(req: IncomingMessage, maxBytes = DRAIN_MAX_BYTES, maxMs = DRAIN_MAX_MS): Promise<boolean> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve(req.complete || req.readableEnded);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onError);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer | string) => { seen += chunk.length; if (seen > maxBytes) finish(false); };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const timer = setTimeout(() => finish(false), maxMs);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onError);
    req.resume();
  });
}

/**
 * Answers a connection Node's HTTP parser gave up on (a header over maxHeaderSize, a malformed request line,
 * a request timeout) with problem+json instead of a bare status line, then lets the client finish sending
 * (bounded) before closing, so it reads the answer rather than a reset.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // The parser reports every later chunk of a broken request again; answer once.
  if (answered.has(socket)) return;
  answered.add(socket);
  const [status, title, detail, field] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are larger than this server accepts', 'header']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request was not received in time', undefined]
        : [400, 'Bad Request', 'the request is not valid HTTP/1.1', undefined];
  const body = JSON.stringify(new Problem(status, title, detail, field ? [{ name: field, reason: 'too large' }] : undefined).toJSON());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${title}\r\ncontent-type: ${PROBLEM}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  // Half-close: the answer is sent and no more will follow; the client's remaining bytes are still read
  // (by the HTTP parser, which ignores them now) until it closes its side or the bounds run out.
  socket.end();
  const start = socket.bytesRead;
  const timer = setTimeout(() => socket.destroy(), DRAIN_MAX_MS);
  timer.unref();
  const check = setInterval(() => { if (socket.bytesRead - start > DRAIN_MAX_BYTES) socket.destroy(); }, 250);
  check.unref();
  socket.once('close', () => { clearTimeout(timer); clearInterval(check); });
}
const answered = new WeakSet<Socket>();

/** Deepest nesting of a parsed JSON value, counted without recursion; stops once past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Deepest bracket nesting of JSON text (strings skipped), in one pass; stops once past `limit`. */
export function jsonTextDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return deepest;
}

const tooDeep = () => new Problem(400, 'JSON Too Deeply Nested', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`, [
  { name: 'body', reason: `nests deeper than ${MAX_JSON_DEPTH} levels` },
]);
const tooLarge = (limit?: number) => new Problem(413, 'Content Too Large',
  limit ? `request bodies are limited to ${limit} bytes` : 'the request body is larger than this function accepts', [{ name: 'body', reason: 'too large' }]);

function fromFastifyError(err: { statusCode?: number; code?: string; message?: string }): Problem {
  if (err instanceof Problem) return err;
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(400, 'Malformed JSON', err.message, [{ name: 'body', reason: 'is not valid JSON' }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, 'Unsupported Media Type', err.message, [{ name: 'header/content-type', reason: 'unsupported' }]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem(400, 'Bad Request', 'Content-Length does not match the body', [{ name: 'header/content-length', reason: 'mismatch' }]);
  }
  if (status === 400 && (err as Error).name === 'SyntaxError' || /JSON/.test(err.message ?? '') && status === 400) {
    return new Problem(400, 'Malformed JSON', err.message, [{ name: 'body', reason: 'is not valid JSON' }]);
  }
  if (status < 500) {
    // CloudEvents SDK validation (missing ce-id, ce-source, …) and other client-side faults.
    const field = /ce-?(\w+)|\b(id|source|type|specversion)\b/i.exec(err.message ?? '');
    return new Problem(status, status === 406 ? 'Not Acceptable' : 'Bad Request', err.message, field ? [{ name: `cloudevent/${(field[1] ?? field[2]).toLowerCase()}`, reason: err.message ?? 'invalid' }] : undefined);
  }
  if (/invalid|required|must|CloudEvent/i.test(err.message ?? '')) {
    // The CloudEvents SDK throws plain errors (no status) for a malformed event: that is the sender's fault.
    return new Problem(400, 'Invalid CloudEvent', err.message, [{ name: 'cloudevent', reason: err.message ?? 'invalid' }]);
  }
  return new Problem(500, 'Internal Server Error', 'the function failed; the error is logged');
}

/** What the function behind a Fastify instance answers, learnt from the module faas-js-runtime registers. */
interface FunctionShape {
  /** The methods it answers at / (preflight and real answers say the same). */
  methods: string;
  /** Its own body limit, below the runtime's (route functions: MAX_BODY_BYTES). */
  bodyLimit?: number;
  /** The function's name (its spec's, else func.yaml's), which its metrics carry. */
  name?: string;
  /** A route function's path template (the route label of its request metrics). */
  path?: string;
}

/** Route functions answer their route's method; consumers, jobs and sinks take CloudEvents by POST. */
function shapeOf(func: unknown, config?: { name?: unknown }): FunctionShape | undefined {
  if (typeof func !== 'function') return undefined;
  const spec = (func as { spec?: { method?: unknown; name?: unknown; path?: unknown } }).spec;
  const named = typeof spec?.name === 'string' ? spec.name : typeof config?.name === 'string' ? config.name : process.env.K_SERVICE;
  return typeof spec?.method === 'string'
    ? { methods: `${spec.method}, OPTIONS`, bodyLimit: MAX_BODY_BYTES, name: named, path: typeof spec.path === 'string' ? spec.path : undefined }
    : { methods: 'POST, OPTIONS', name: named };
}

function withVaryOrigin(existing: unknown): string {
  if (existing === undefined) return 'Origin';
  const list = String(existing ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  return list.some((v) => v.toLowerCase() === 'origin' || v === '*') ? list.join(', ') : [...list, 'Origin'].join(', ');
}

const JSONISH = /json/i;

let installed = false;

export function installRuntimeHooks(): void {
  if (installed) return;
  installed = true;
  subscribe('fastify.initialization', (message: unknown) => {
    const fastify = (message as { fastify: any }).fastify;
    const shape: FunctionShape = { methods: 'POST, OPTIONS' };

    // faas-js-runtime registers its invocation plugin with { func, funcConfig }: the handle carries its spec.
    fastify.addHook('onRegister', (_instance: unknown, opts: { func?: unknown; funcConfig?: { name?: unknown } } | undefined) => {
      const found = shapeOf(opts?.func, opts?.funcConfig);
      if (found) Object.assign(shape, found);
    });

    // The kit's metrics: a route function's requests timed per route, method and status, and /metrics answering
    // the runtime's metrics followed by the kit's (functions/shared/metrics.ts).
    fastify.addHook('onRoute', (route: any) => instrumentRoute(route, shape));

    // Fastify's own clientError answer is plain JSON and closes at once (the client may read a reset).
    fastify.server.removeAllListeners('clientError');
    fastify.server.on('clientError', answerClientError);

    fastify.setErrorHandler(async (err: any, request: any, reply: any) => {
      const problem = fromFastifyError(err);
      if (problem.status >= 500) request.log.error({ err }, 'request failed');
      // A body refused before it was read (413 on Content-Length, or midway): read the rest first.
      const drained = await drainRequest(request.raw);
      reply.code(problem.status).headers({ 'content-type': PROBLEM, ...problem.headers, ...(drained ? {} : { connection: 'close' }) });
      return JSON.stringify(problem.toJSON());
    });
    fastify.setNotFoundHandler((request: any, reply: any) => {
      reply.code(404).header('content-type', PROBLEM).send(JSON.stringify(
        new Problem(404, 'Not Found', `a function answers at / only; ${request.method} ${request.url} is not served here`).toJSON(),
      ));
    });

    fastify.addHook('onRequest', (request: any, reply: any, done: () => void) => {
      // The runtime's metrics stop an execution timer that only starts once a body parsed; a rejected body
      // would otherwise log a TypeError after its (correct) 4xx answer.
      request.execTimer ??= () => undefined;
      if (request.method !== 'OPTIONS') return done();
      // Preflight: the runtime answers every OPTIONS with "*"; answer only configured portal origins.
      const origin = request.headers.origin as string | undefined;
      const allowed = origin && allowedOrigins().includes(origin);
      reply.code(allowed ? 204 : 403).headers({
        ...(allowed ? {
          'access-control-allow-headers': 'authorization, content-type, idempotency-key',
          'access-control-max-age': '600',
        } : { 'content-type': PROBLEM }),
      }).send(allowed ? undefined : JSON.stringify(new Problem(403, 'Forbidden', `origin ${origin ?? '(none)'} is not a portal origin`).toJSON()));
    });

    // A route function's own limit, counted on the wire (declared or chunked) before JSON is parsed.
    fastify.addHook('preParsing', (request: any, _reply: any, payload: NodeJS.ReadableStream, done: (err: Error | null, p?: NodeJS.ReadableStream) => void) => {
      const limit = shape.bodyLimit;
      // Fastify never reads a GET's or HEAD's body, so there is nothing to count.
      if (!limit || request.method === 'GET' || request.method === 'HEAD') return done(null, payload);
      if (Number(request.headers['content-length']) > limit) return done(tooLarge(limit));
      let seen = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _enc, next) {
          seen += chunk.length;
          next(seen > limit ? tooLarge(limit) : null, seen > limit ? undefined : chunk);
        },
      });
      // Fastify listens for the error it reports; this one only keeps a stray error from crashing the process.
      counted.on('error', () => undefined);
      payload.pipe(counted);
      done(null, counted);
    });

    // Before any handler (and before the runtime reads a CloudEvent out of the request): a JSON body nested
    // deeper than MAX_JSON_DEPTH is refused, so no recursive code downstream (stringify, validators, the
    // CloudEvents SDK) can overflow the stack on it. Parsed bodies are walked; JSON kept as text (structured
    // CloudEvents, event data sent as text) is scanned.
    fastify.addHook('preHandler', (request: any, _reply: any, done: (err?: Error) => void) => {
      const body = request.body;
      const type = String(request.headers['content-type'] ?? '');
      let depth = 0;
      if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) depth = jsonDepth(body);
      else if ((typeof body === 'string' || Buffer.isBuffer(body)) && (JSONISH.test(type) || request.headers['ce-specversion'] !== undefined)) {
        depth = jsonTextDepth(body.toString());
      }
      done(depth > MAX_JSON_DEPTH ? tooDeep() : undefined);
    });

    // Every answer (handler, error, preflight, 404) carries the same CORS headers: an allowed origin is echoed
    // with Vary: Origin, any other gets no Access-Control-Allow-Origin at all (the runtime alone would send "*"),
    // and the methods are the ones this function answers.
    fastify.addHook('onSend', (request: any, reply: any, payload: unknown, done: (err: null, p: unknown) => void) => {
      const origin = request.headers.origin as string | undefined;
      if (origin && allowedOrigins().includes(origin)) reply.header('access-control-allow-origin', origin);
      else reply.removeHeader('access-control-allow-origin');
      reply.header('vary', withVaryOrigin(reply.getHeader('vary')));
      reply.header('access-control-allow-methods', shape.methods);
      done(null, payload);
    });
  });
}
