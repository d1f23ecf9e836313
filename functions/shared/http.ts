// route(): the plumbing of an HTTP function. The handler receives a validated body and query and the caller
// its auth proved (typed by the roles it allows), and returns a reply; domain errors it throws become
// RFC 9457 problem+json with the status their refusal means and the request field at fault.
import type { Context } from 'faas-js-runtime';
import type { FromSchema } from 'json-schema-to-ts';
import { Problem, forbidden, methodNotAllowed, unauthorized, unsupportedMediaType, badRequest, invalid, type FunctionResponse } from './errors';
import { DomainError, type Refusal } from './domain-errors';
import { callerFrom, prefetchProviderKeys, type Caller, type Grant, type Role } from './auth';
import { holds } from './access';
import { check, precompile, type JsonSchema } from './validate';
import { warmBeforeReady } from './lifecycle';
import { asUnavailable, db, type Db, type Tx } from './db';
import { functionLogger, type Logger } from './log';
import { allowedOrigins, MAX_BODY_BYTES } from './http-config';
import { installRuntimeHooks } from './runtime-hooks';
import { emitOnly, transaction, withUnit } from './outbox';
import { claim, fingerprintOf, keyFrom, remember, KeyAnsweredMeanwhile, IDEMPOTENCY_HEADER } from './idempotency';
import { assertRouteConfig } from './config';
import { traced } from './telemetry';
import type { Emit, EventCatalogue, System } from './system';

installRuntimeHooks();

type Auth = 'public' | readonly Role[];

export interface RouteSpec<E extends EventCatalogue = EventCatalogue, B extends JsonSchema | undefined = JsonSchema | undefined, Q extends JsonSchema | undefined = JsonSchema | undefined, A extends Auth = Auth> {
  /** Function name (Knative Service name); also the CloudEvent source of events it emits. */
  name: string;
  /** The system the function belongs to: its events, its database schema. */
  system: System<E>;
  method: 'GET' | 'POST';
  /** Public path on the portal gateway. */
  path: string;
  summary: string;
  /** 'public' routes need no token; otherwise the roles allowed. */
  auth: A;
  /** A grant the (staff) caller must also hold, e.g. operator for the dead-letter API. */
  grant?: Grant;
  body?: B;
  /** The body's media type: JSON (the default), or a form as providers post their webhooks (application/x-www-form-urlencoded). */
  bodyType?: 'json' | 'form';
  /**
   * A public route whose caller is proved by something other than a token (a provider's signature over the
   * request): runs after the method and origin checks and before the body is checked, so an unproved caller
   * learns nothing of the body's schema. Throws a Problem (403) to refuse.
   */
  verify?: (request: { headers: Record<string, string | undefined>; query: Record<string, unknown>; body: unknown }) => void;
  query?: Q;
  /** Success responses by status, with the schema of each view (published in /openapi.json). */
  responses: Record<number, { description: string; schema?: JsonSchema }>;
  /** The domain refusals the handler can throw, each with what it means here (documented as 404/409/403/400). */
  refuses?: Partial<Record<Refusal, string>>;
  /** Honours Idempotency-Key: the first answer is kept and replayed (creating POSTs). */
  idempotent?: boolean;
  /** false: the route never touches the database (a page served from the function itself), so it never answers 503. */
  database?: false;
}

type Infer<S> = S extends JsonSchema ? FromSchema<S> : undefined;
/** The caller a route's auth guarantees: roles narrow the type, so a patient route's caller has a patientId. */
export type CallerOf<A extends Auth> = A extends readonly (infer R)[] ? Extract<Caller, { role: R }> : Caller | undefined;

export interface RouteRequest<E extends EventCatalogue, B, Q, C> {
  body: B;
  query: Q;
  caller: C;
  headers: Record<string, string | undefined>;
  log: Logger;
  /** Reads that need no transaction (one query, or a consistent-enough view for a calendar). */
  db: Db;
  /** The function's transaction: state change + events, committed together. */
  transaction<R>(work: (tx: Tx, emit: Emit<E>) => Promise<R>): Promise<R>;
  /** Events that change nothing of the function's own (a report passed on): one statement, no transaction. */
  emitOnly(emitting: (emit: Emit<E>) => Promise<void>): Promise<void>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A body already serialised as JSON (e.g. built by PostgreSQL): sent as it is, not parsed and written again. */
export class JsonText {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown, location?: string): Reply => ({ status: 201, body, headers: location ? { location } : undefined });

export interface RouteHandler {
  (context: Context, body?: unknown): Promise<FunctionResponse>;
  spec: RouteSpec;
}

const RESERVED_QUERY = new Set(['body', 'query', 'headers', 'method', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'contentType', 'rawBody', 'log', 'cloudevent', 'cloudEventResponse']);

const REFUSAL_STATUS: Record<Refusal, [number, string]> = {
  'not-found': [404, 'Not Found'],
  conflict: [409, 'Conflict'],
  forbidden: [403, 'Forbidden'],
  invalid: [400, 'Invalid Request'],
};

/** Every status a route can answer, with its meaning: what /openapi.json documents (a test drives each). */
export function statusesOf(spec: RouteSpec): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [status, r] of Object.entries(spec.responses)) out[Number(status)] = r.description;
  out[400] = 'Invalid input; invalid-params names each failing field';
  if (spec.auth !== 'public') out[401] = 'Missing, expired or invalid bearer token';
  out[403] = [spec.auth === 'public' ? undefined : `Only for ${spec.auth.join(', ')}${spec.grant ? ` holding the ${spec.grant} grant` : ''}`, 'a browser origin that is not a portal origin', spec.refuses?.forbidden].filter(Boolean).join('; ');
  out[405] = `Only ${spec.method} is answered`;
  if (spec.refuses?.['not-found']) out[404] = spec.refuses['not-found'];
  if (spec.refuses?.conflict || spec.idempotent) out[409] = [spec.refuses?.conflict, spec.idempotent ? 'a request with this Idempotency-Key is still in flight' : undefined].filter(Boolean).join('; ');
  if (spec.refuses?.invalid) out[400] += `; ${spec.refuses.invalid}`;
  if (spec.verify) out[403] += '; a missing or wrong signature';
  if (spec.body) {
    out[413] = `The body is larger than ${MAX_BODY_BYTES} bytes`;
    out[415] = `The body is not ${mediaTypeOf(spec)}`;
  }
  if (spec.idempotent) out[422] = 'The Idempotency-Key was used with a different request';
  if (spec.database !== false) out[503] = 'Temporarily unavailable (database down or a conflicting change); retry after Retry-After';
  return out;
}

/** The media type a route's body must have. */
export const mediaTypeOf = (spec: Pick<RouteSpec, 'bodyType'>) => (spec.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');

function optionalCaller(headers: Record<string, string | string[] | undefined>): Promise<Caller | undefined> {
  return callerFrom(headers).catch(() => undefined);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Each header's first value (most handlers read none, so this is built only when asked for). */
function singleHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k in headers) out[k] = single(headers[k]);
  return out;
}

/** Where the request carried a domain field: body/slotId, query/branchId, or just the name. */
function fieldPath(spec: RouteSpec, field: string): string {
  const has = (s: JsonSchema | undefined) => !!(s as { properties?: Record<string, unknown> } | undefined)?.properties?.[field];
  return has(spec.body) ? `body/${field}` : has(spec.query) ? `query/${field}` : field;
}

function problemOf(err: DomainError, spec: RouteSpec): Problem {
  const [status, title] = REFUSAL_STATUS[err.refusal];
  return new Problem(status, title, err.message, err.field ? [{ name: fieldPath(spec, err.field), reason: err.message }] : undefined);
}

/** The client, connected on first use: a request refused before any read (bad input, auth) never touches the database. */
const lazyDb = new Proxy({} as Db, {
  get(_, key) {
    const client = db() as unknown as Record<string | symbol, unknown>;
    const value = client[key];
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(client) : value;
  },
});

export function route<const E extends EventCatalogue, const B extends JsonSchema | undefined = undefined, const Q extends JsonSchema | undefined = undefined, const A extends Auth = Auth>(
  spec: RouteSpec<E, B, Q, A>,
  handler: (request: RouteRequest<E, Infer<B>, Infer<Q>, CallerOf<A>>) => Promise<Reply>,
): RouteHandler {
  assertRouteConfig();
  warmBeforeReady(async () => {
    if (spec.body) precompile(spec.body);
    if (spec.query) precompile(spec.query, true);
    if (spec.auth !== 'public') await prefetchProviderKeys();
  });
  const log = functionLogger(spec.name);
  const source = `/${spec.system.name}/${spec.name}`;
  const plain = spec as unknown as RouteSpec;
  const handle = async (context: Context, rawBody?: unknown) => {
    const headers = context.headers as Record<string, string | string[] | undefined>;
    const origin = single(headers.origin);
    try {
      // faas-js-runtime copies query parameters onto the context; one named like a context field
      // (?method=, ?headers=) would overwrite it, so such names are refused before anything is read.
      // ?query= replaces the parsed query itself (with a string), so it can only be seen by what it left behind.
      const parsedQuery: unknown = context.query;
      if (parsedQuery !== undefined && (typeof parsedQuery !== 'object' || parsedQuery === null || Array.isArray(parsedQuery))) throw invalid([{ name: 'query/query', reason: 'is a reserved name' }]);
      const shadowing = Object.keys(context.query ?? {}).filter((k) => RESERVED_QUERY.has(k));
      if (shadowing.length) throw invalid(shadowing.map((k) => ({ name: `query/${k}`, reason: 'is a reserved name' })));
      if (context.method !== spec.method) throw methodNotAllowed([spec.method]);
      // A browser on a foreign origin must not cause side effects even if the preflight was skipped.
      if (origin && !allowedOrigins().includes(origin)) throw forbidden(`origin ${origin} is not a portal origin`);

      // Who is calling comes first: an anonymous caller learns nothing about the body's schema. On a public
      // route a stale or broken token is ignored (a waiting-room screen must not go blank).
      const caller = spec.auth !== 'public' ? await callerFrom(headers) : headers.authorization ? await optionalCaller(headers) : undefined;
      if (spec.auth !== 'public') {
        if (!caller) throw unauthorized();
        if (!spec.auth.includes(caller.role)) throw forbidden(`this route is for ${spec.auth.join(' or ')}`);
        if (spec.grant && !holds(caller, spec.grant)) throw forbidden(`this route is for staff holding the ${spec.grant} grant`);
      }
      const type = single(headers['content-type'])?.split(';')[0].trim().toLowerCase();
      if (spec.verify) {
        // The media type is public knowledge (the document says it); what the signature covers is read only in that type.
        if (spec.body && type !== mediaTypeOf(spec)) throw unsupportedMediaType(mediaTypeOf(spec));
        spec.verify({ headers: singleHeaders(headers), query: { ...context.query }, body: rawBody });
      }

      let body: unknown = undefined;
      if (spec.body) {
        // faas-js-runtime parses a form into an object as it parses JSON: both are then checked alike.
        const mediaType = mediaTypeOf(spec);
        if (type !== mediaType) throw unsupportedMediaType(mediaType);
        const what = spec.bodyType === 'form' ? 'form' : 'JSON';
        if (rawBody === undefined || rawBody === null || rawBody === '') throw badRequest(`a ${what} body is required`, 'body', 'is required');
        if (Buffer.isBuffer(rawBody) || typeof rawBody !== 'object' || Array.isArray(rawBody)) throw badRequest(`the body must be a ${what} object`, 'body', 'must be an object');
        body = check(spec.body, rawBody, 'body');
      }
      const query = spec.query ? check(spec.query, { ...context.query }, 'query') : {};
      const request = {
        body: body as Infer<B>,
        query: query as Infer<Q>,
        caller: caller as CallerOf<A>,
        get headers() {
          return singleHeaders(headers);
        },
        log,
        db: lazyDb,
        transaction: <R>(work: (tx: Tx, emit: Emit<E>) => Promise<R>) => transaction(spec.system, source, work),
        emitOnly: (emitting: (emit: Emit<E>) => Promise<void>) => emitOnly(spec.system, source, emitting),
      };

      const key = spec.idempotent ? keyFrom(single(headers[IDEMPOTENCY_HEADER])) : undefined;
      const idempotently = (caller: Caller, key: string) => withUnit(spec.system, source, async (unit) => {
        const scope = { system: spec.system, route: spec.name, caller: `${caller.role}:${caller.subject}`, key, fingerprint: fingerprintOf(body, query) };
        const earlier = await claim(unit.tx, scope);
        if (earlier) return earlier;
        // The handler's transaction is this one, so the effect and the kept answer commit together.
        const answer = await handler({ ...request, transaction: (work) => work(unit.tx, unit.emit), emitOnly: (emitting) => emitting(unit.emit) });
        if (answer.status < 300) remember(unit, scope, { status: answer.status, headers: answer.headers ?? {}, body: answer.body ?? {} });
        return answer;
      });
      // A request with the same key that committed as this one began wins; this one is undone and replays it.
      const reply = key && caller
        ? await idempotently(caller, key).catch((err) => (err instanceof KeyAnsweredMeanwhile ? idempotently(caller, key) : Promise.reject(err)))
        : await handler(request);
      return {
        statusCode: reply.status,
        headers: { 'content-type': 'application/json; charset=utf-8', ...reply.headers },
        body: reply.body instanceof JsonText ? reply.body.text : reply.body ?? {},
      };
    } catch (err) {
      if (err instanceof DomainError) return problemOf(err, plain).response();
      if (err instanceof Problem) return err.response();
      const down = asUnavailable(err);
      if (down) {
        log.warn({ err: String(err) }, 'database unavailable');
        return down.response();
      }
      log.error({ err }, 'unhandled error');
      return new Problem(500, 'Internal Server Error', 'the function failed; the error is logged').response();
    }
  };
  const tracedHandle = traced(() => ({ name: `${spec.method} ${spec.path}`, attributes: { 'faas.name': spec.name, 'faas.trigger': 'http', 'http.route': spec.path }, failedFrom: 500 }), handle);
  return Object.assign(tracedHandle, { spec: plain });
}
