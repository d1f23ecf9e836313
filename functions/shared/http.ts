// route(): the plumbing of an HTTP function. The handler receives a validated body and query and the
// authenticated caller, and returns a reply; everything that can go wrong becomes RFC 9457 problem+json.
import type { Context } from 'faas-js-runtime';
import { Problem, forbidden, methodNotAllowed, unauthorized, unsupportedMediaType, badRequest, invalid, type FunctionResponse } from './errors';
import { callerFrom, type Caller, type Role } from './auth';
import { check, type JsonSchema } from './validate';
import { asUnavailable, db, type Db } from './db';
import { functionLogger, type Logger } from './log';
import { allowedOrigins, MAX_BODY_BYTES } from './http-config';
import { installRuntimeHooks } from './runtime-hooks';
import { transaction, type Emit } from './outbox';
import type { Tx } from './db';

installRuntimeHooks();

export interface RouteSpec<B extends JsonSchema | undefined = JsonSchema | undefined, Q extends JsonSchema | undefined = JsonSchema | undefined> {
  /** Function name (Knative Service name); also the CloudEvent source of events it emits. */
  name: string;
  /** System the function belongs to, e.g. booking-queue. */
  system: string;
  method: 'GET' | 'POST';
  /** Public path on the portal gateway. */
  path: string;
  summary: string;
  /** 'public' routes need no token; otherwise the roles allowed. */
  auth: 'public' | Role[];
  body?: B;
  query?: Q;
  /** Response schemas by status, for the OpenAPI document. */
  responses?: Record<number, { description: string; schema?: JsonSchema }>;
  /** Header the route honours for safe retries (documented in OpenAPI). */
  idempotencyHeader?: boolean;
}

export interface RouteRequest<B, Q> {
  body: B;
  query: Q;
  caller: Caller | undefined;
  headers: Record<string, string | undefined>;
  log: Logger;
  /** Reads that need no transaction (one query, or a consistent-enough view for a calendar). */
  db: Db;
  /** The function's transaction: state change + events, committed together. */
  transaction<R>(work: (tx: Tx, emit: Emit) => Promise<R>): Promise<R>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });
export const created = (body: unknown, location?: string): Reply => ({ status: 201, body, headers: location ? { location } : undefined });

type Infer<S> = S extends JsonSchema ? import('json-schema-to-ts').FromSchema<S> : undefined;

export interface RouteHandler {
  (context: Context, body?: unknown): Promise<FunctionResponse>;
  spec: RouteSpec;
}

const RESERVED_QUERY = new Set(['body', 'query', 'headers', 'method', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'contentType', 'rawBody', 'log', 'cloudevent', 'cloudEventResponse']);

function optionalCaller(headers: Record<string, string | string[] | undefined>): Caller | undefined {
  try {
    return callerFrom(headers);
  } catch {
    return undefined;
  }
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function problemReply(problem: Problem, origin: string | undefined) {
  return problem.response(corsHeaders(origin));
}

function corsHeaders(origin: string | undefined): Record<string, string> {
  return origin && allowedOrigins().includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
}

export function route<const B extends JsonSchema | undefined = undefined, const Q extends JsonSchema | undefined = undefined>(
  spec: RouteSpec<B, Q>,
  handler: (request: RouteRequest<Infer<B>, Infer<Q>>) => Promise<Reply>,
): RouteHandler {
  const log = functionLogger(spec.name);
  const source = `/${spec.system}/${spec.name}`;
  const handle = async (context: Context, rawBody?: unknown) => {
    // faas-js-runtime copies query parameters onto the context; one named like a context field
    // (?method=, ?headers=) would overwrite it, so such names are refused before anything is read.
    const shadowing = Object.keys(context.query ?? {}).filter((k) => RESERVED_QUERY.has(k));
    if (shadowing.length) {
      return problemReply(invalid(shadowing.map((k) => ({ name: `query/${k}`, reason: 'is a reserved name' }))), undefined);
    }
    const headers = context.headers as Record<string, string | string[] | undefined>;
    const origin = single(headers.origin);
    try {
      if (context.method !== spec.method) throw methodNotAllowed([spec.method]);
      // A browser on a foreign origin must not cause side effects even if the preflight was skipped.
      if (origin && !allowedOrigins().includes(origin)) throw forbidden(`origin ${origin} is not a portal origin`);

      // Who is calling comes first: an anonymous caller learns nothing about the body's schema. On a public
      // route a stale or broken token is ignored (a waiting-room screen must not go blank).
      const caller = spec.auth === 'public' ? optionalCaller(headers) : callerFrom(headers);
      if (spec.auth !== 'public') {
        if (!caller) throw unauthorized();
        if (!spec.auth.includes(caller.role)) throw forbidden(`this route is for ${spec.auth.join(' or ')}`);
      }

      let body: unknown = undefined;
      if (spec.body) {
        const type = single(headers['content-type'])?.split(';')[0].trim().toLowerCase();
        if (type !== 'application/json') throw unsupportedMediaType('application/json');
        if (rawBody === undefined || rawBody === null || rawBody === '') throw badRequest('a JSON body is required', 'body', 'is required');
        if (Buffer.isBuffer(rawBody) || typeof rawBody !== 'object') throw badRequest('the body must be a JSON object', 'body', 'must be an object');
        if (Number(single(headers['content-length'])) > MAX_BODY_BYTES) {
          throw new Problem(413, 'Content Too Large', `bodies are limited to ${MAX_BODY_BYTES} bytes`, [{ name: 'body', reason: 'too large' }]);
        }
        body = check(spec.body, rawBody, 'body');
      }
      const query = spec.query ? check(spec.query, { ...context.query }, 'query') : {};

      const reply = await handler({
        body: body as Infer<B>,
        query: query as Infer<Q>,
        caller,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, single(v)])),
        log,
        db: db(),
        transaction: (work) => transaction(source, work),
      });
      return {
        statusCode: reply.status,
        headers: { 'content-type': 'application/json; charset=utf-8', ...corsHeaders(origin), ...reply.headers },
        body: reply.body ?? {},
      };
    } catch (err) {
      if (err instanceof Problem) return problemReply(err, origin);
      const down = asUnavailable(err);
      if (down) {
        log.warn({ err: String(err) }, 'database unavailable');
        return problemReply(down, origin);
      }
      log.error({ err }, 'unhandled error');
      return problemReply(new Problem(500, 'Internal Server Error', 'the function failed; the error is logged'), origin);
    }
  };
  return Object.assign(handle, { spec: spec as RouteSpec });
}

/** faas-js-runtime calls this for the allowed origins of the function's responses. */
export const cors = (): string[] => allowedOrigins();
