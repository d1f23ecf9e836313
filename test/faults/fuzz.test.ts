// Fault: hostile and broken input on every route of the API. The whole bundle runs (knative/ wiring, in-process
// bus); its /openapi.json says which routes exist, what they take and who may call them, and a seeded generator
// derives a bounded set of bad requests from that: malformed JSON, wrong types, missing and extra fields,
// oversize bodies (read back as 413 by the client, never a reset), JSON nested 5,000 levels deep, oversize
// headers, bad tokens, portal and foreign origins. Every answer must be below 500; every refusal
// application/problem+json with its status and a title; an allowed origin echoed, any other without
// Access-Control-Allow-Origin; a 2xx only where the request really was valid for a public route; and the bundle
// must still be healthy afterwards.
import { strict as assert } from 'node:assert';
import http, { type IncomingHttpHeaders } from 'node:http';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Bundle } from '../../scripts/lib/runtime/bundle';
import { signToken } from '../../functions/shared/auth';
import { resetDatabase, seedCatalogue, createSlot, token, staffToken, BRANCH, eventually, quietJsonParseErrors } from '../support/fixtures';
import { seeded } from './support';

const SEED = 20261121;
// About 40 cases a route (the bundle has some 65 routes, 2,717 cases): a bound that grows with the API, not
// without limit.
const MAX_CASES = 3500;
const CONCURRENCY = 6;
/** The route functions' own limit (functions/shared/http-config.ts MAX_BODY_BYTES) and faas-js-runtime's. */
const ROUTE_BODY_LIMIT = 64 * 1024;
const RUNTIME_BODY_LIMIT = 1024 * 1024;
/** functions/shared/http-config.ts MAX_JSON_DEPTH. */
const MAX_JSON_DEPTH = 64;
const PORTAL_ORIGIN = 'http://localhost:8080';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, any>;

interface Operation {
  path: string;
  method: string;
  fn: string;
  isPublic: boolean;
  roles: string[];
  body?: Schema;
  query?: Schema;
}

interface Case {
  op: Operation;
  name: string;
  method: string;
  /** 'gateway': the bundle's public path; 'function': the function's own URL (bodies over the runtime's limit, see below). */
  via: 'gateway' | 'function';
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The answer must be this status (the request is refused before anything else is judged). */
  status?: number;
  /** The oracle: a 2xx is acceptable for this request. */
  may2xx: boolean;
}

interface Outcome { status?: number; headers?: IncomingHttpHeaders; text?: string; error?: string; sendError?: string }

/**
 * One request on its own connection (no keep-alive state shared between cases), bounded; GET may carry a body.
 * A server that answers and closes before the client has sent its whole body (the client sees EPIPE or a
 * reset) is reported as sendError.
 */
function send(url: string, method: string, headers: Record<string, string>, body: string | Buffer | undefined, timeoutMs = 30_000): Promise<Outcome> {
  return new Promise((resolve) => {
    let answered: Outcome | undefined;
    let sendError: string | undefined;
    const req = http.request(url, {
      method, agent: false, signal: AbortSignal.timeout(timeoutMs),
      headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answered = { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
      });
      res.on('error', (err) => resolve(answered ?? { error: `response: ${err.message}` }));
    });
    req.on('error', (err) => { sendError = err.message; });
    // Settled when the connection is gone (agent: false closes it after each answer), so a reset that
    // follows the answer is seen.
    req.on('close', () => resolve(answered ? { ...answered, sendError } : { error: sendError ?? 'connection closed without an answer' }));
    req.end(body);
  });
}

/** JSON type of a value as JSON Schema names it. */
function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The JSON types a schema accepts; undefined when it accepts anything. */
function allowedTypes(s: Schema): Set<string> | undefined {
  const out = new Set<string>();
  if (s.type) for (const t of [s.type].flat()) out.add(t);
  else if (s.enum) for (const v of s.enum) out.add(typeOf(v));
  else if (s.anyOf || s.oneOf) {
    for (const sub of s.anyOf ?? s.oneOf) {
      const t = allowedTypes(sub);
      if (!t) return undefined;
      t.forEach((x) => out.add(x));
    }
  } else return undefined;
  if (out.has('number')) out.add('integer');
  return out;
}

const WRONG: Json[] = [12345, -1.5, 'a-string', true, false, null, [], [1, 'x'], {}, { nested: { deep: [1] } }];

describe('fault: input fuzzing of every route in /openapi.json', function () {
  this.timeout(115_000);
  const previousBrokers = process.env.KAFKA_BROKERS;
  let bundle: Bundle | undefined;
  let base = '';
  let restoreConsole = () => undefined as void;

  before(async () => {
    restoreConsole = quietJsonParseErrors();
    // The in-process bus, as npm start runs without Kafka.
    delete process.env.KAFKA_BROKERS;
    await resetDatabase();
    await seedCatalogue();
    await createSlot({ capacity: 3 });
    bundle = await new Bundle({ port: 0, host: '127.0.0.1', schedules: false }).start();
    base = `http://127.0.0.1:${new URL(bundle.url).port}`;
  });

  after(async () => {
    restoreConsole();
    await bundle?.stop();
    if (previousBrokers !== undefined) process.env.KAFKA_BROKERS = previousBrokers;
  });

  it('no 5xx and no crash; every refusal is problem+json; a 2xx only for valid input to a public route', async () => {
    const doc = JSON.parse((await send(`${base}/openapi.json`, 'GET', {}, undefined)).text ?? 'null');
    assert.equal(doc?.openapi, '3.1.0');

    // ---- the operations, as the document describes them ----
    const ops: Operation[] = [];
    for (const [p, methods] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) {
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        // A provider's webhook: no token, but its signature (which the fuzzer never has) is the proof.
        const signed = Array.isArray(op.security) && op.security.some((s: Record<string, unknown>) => 'providerSignature' in s);
        const roles = isPublic || signed ? [] : (/Roles: (.+)$/.exec(op.description ?? '')?.[1].split(', ') ?? []);
        assert.ok(isPublic || signed || roles.length, `${method} ${p}: the document names the roles`);
        const q = (op.parameters ?? []).filter((x: any) => x.in === 'query');
        ops.push({
          path: p, method: method.toUpperCase(), fn: op['x-function'], isPublic, roles,
          body: op.requestBody?.content?.['application/json']?.schema,
          query: q.length ? { type: 'object', additionalProperties: false, required: q.filter((x: any) => x.required).map((x: any) => x.name), properties: Object.fromEntries(q.map((x: any) => [x.name, x.schema])) } : undefined,
        });
      }
    }
    assert.ok(ops.length >= 15, `the document lists the routes (${ops.length})`);

    // ---- the oracle: an independent validator of the documented schemas ----
    const ajv = addFormats(new Ajv({ strict: false, coerceTypes: false }));
    const queryAjv = addFormats(new Ajv({ strict: false, coerceTypes: true }));
    const compiled = new Map<Schema, ValidateFunction>();
    const validate = (schema: Schema, value: unknown, forQuery: boolean) => {
      let fn = compiled.get(schema);
      if (!fn) compiled.set(schema, (fn = (forQuery ? queryAjv : ajv).compile(schema)));
      return fn(structuredClone(value)) as boolean;
    };
    const RESERVED = new Set(['body', 'query', 'headers', 'method', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'contentType', 'rawBody', 'log', 'cloudevent', 'cloudEventResponse']);
    const queryValid = (op: Operation, query: Array<[string, string]>) => {
      if (query.some(([k]) => RESERVED.has(k))) return false;
      if (!op.query) return true; // a route without query parameters ignores them
      const obj: Record<string, string | string[]> = {};
      for (const [k, v] of query) {
        const value = Object.hasOwn(obj, k) ? [obj[k]].flat().concat(v) : v;
        Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true }); // "__proto__" too
      }
      return validate(op.query, obj, true);
    };
    const bodyValid = (op: Operation, headers: Record<string, string>, body: string | Buffer | undefined) => {
      if (op.method === 'GET') return true; // no body in this API's GETs: ignored
      if (!op.body) return true;
      if (headers['content-type']?.split(';')[0].trim().toLowerCase() !== 'application/json') return false;
      if (body === undefined || body.length === 0 || Buffer.byteLength(body) > RUNTIME_BODY_LIMIT) return false;
      let parsed: unknown;
      try { parsed = JSON.parse(body.toString()); } catch { return false; }
      if (/"(__proto__|constructor)"\s*:/.test(body.toString())) return false; // refused by the runtime's JSON parser
      if (parsed === null || typeof parsed !== 'object' || Buffer.byteLength(body) > ROUTE_BODY_LIMIT) return false;
      return validate(op.body, parsed, false);
    };

    // ---- seeded generation ----
    const rng = seeded(SEED);
    const sample = (s: Schema, field = ''): Json => {
      if (field === 'branchId') return BRANCH;
      if (field === 'serviceId') return 'blood-draw';
      if (s.enum) return rng.pick(s.enum);
      if (s.anyOf) return sample(s.anyOf[0]);
      const t = [s.type].flat().find((x) => x !== 'null') ?? 'string';
      if (t === 'integer' || t === 'number') return Math.min(s.maximum ?? Infinity, Math.max(s.minimum ?? 1, rng.int(1, 20)));
      if (t === 'boolean') return rng.next() < 0.5;
      if (t === 'array') {
        if (s.items?.type === 'integer') return Array.from({ length: s.minItems ?? 1 }, (_, i) => (s.items.minimum ?? 1) + i);
        return Array.from({ length: s.minItems ?? 1 }, () => sample(s.items ?? {}));
      }
      if (t === 'object') return Object.fromEntries((s.required ?? []).map((k: string) => [k, sample(s.properties[k], k)]));
      if (s.format === 'uuid') return rng.uuid();
      if (s.format === 'date') return '2030-01-15';
      if (s.format === 'date-time') return `2030-0${rng.int(1, 9)}-1${rng.int(0, 9)}T0${rng.int(1, 9)}:30:00.000Z`;
      if (s.pattern === '^([01][0-9]|2[0-3]):[0-5][0-9]$') return `${10 + rng.int(0, 9)}:${rng.pick(['00', '15', '30', '45'])}`;
      return rng.string(Math.max(s.minLength ?? 1, Math.min(8, s.maxLength ?? 8)));
    };
    const wrongFor = (s: Schema): Json[] => {
      const ok = allowedTypes(s);
      if (!ok) return [];
      const candidates = WRONG.filter((v) => !ok.has(typeOf(v)));
      const a = rng.pick(candidates);
      const b = rng.pick(candidates.filter((v) => v !== a));
      return b === undefined ? [a] : [a, b];
    };
    const goodToken = (role: string) => (role === 'staff' ? staffToken() : token(role as never, `${role}-fuzz`));
    const now = Math.floor(Date.now() / 1000);
    const badAuth: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['garbage token', { authorization: `Bearer ${rng.string(40, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.')}` }],
      ['not a bearer token', { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
      ['three garbage parts', { authorization: 'Bearer a.b.c' }],
      ['wrong signing key', { authorization: `Bearer ${signToken({ sub: 'p-fuzz', role: 'patient', exp: now + 3600 }, 'not-the-portal-secret')}` }],
      ['expired token', { authorization: `Bearer ${signToken({ sub: 'p-fuzz', role: 'patient', exp: now - 3600 })}` }],
      ['token without exp', { authorization: `Bearer ${signToken({ sub: 'p-fuzz', role: 'patient' })}` }],
      ['unknown role', { authorization: `Bearer ${signToken({ sub: 'root', role: 'admin' as never, exp: now + 3600 })}` }],
      ['alg none', { authorization: `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 's', role: 'service', exp: now + 3600 })).toString('base64url')}.` }],
    ];
    const MALFORMED = ['{', '{"a":', '{bad}', "{'single': 1}", '[1, 2', '{"x": 1,}', 'nul', '{"a":1}}', '\u0000\u0001', '{"a": "\\u12"}', '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"polluted": true}}}'];
    const NOT_OBJECTS = ['[]', '"text"', '42', 'null', 'true'];

    const cases: Case[] = [];
    for (const op of ops) {
      const role = op.isPublic || !op.roles.length ? undefined : rng.pick(op.roles);
      const auth: Record<string, string> = role ? { authorization: `Bearer ${goodToken(role)}` } : {};
      const baseQuery = op.query ? Object.entries(sample(op.query) as Record<string, Json>).map(([k, v]) => [k, String(v)] as [string, string]) : [];
      const baseBody = op.body ? (sample(op.body) as Record<string, Json>) : undefined;
      const json: Record<string, string> = op.body ? { 'content-type': 'application/json' } : {};
      const add = (name: string, c: Partial<Case> & { valid?: boolean }) => {
        const headers = { ...auth, ...json, ...c.headers };
        const query = c.query ?? baseQuery;
        const body = 'body' in c ? c.body : baseBody !== undefined ? JSON.stringify(baseBody) : undefined;
        const authOk = op.isPublic || (!!headers.authorization && headers.authorization === auth.authorization);
        const valid = (c.valid ?? true) && authOk && queryValid(op, query) && bodyValid(op, headers, body);
        // A valid request to a protected route would act for real; the fuzzer sends faults only.
        if (valid && !op.isPublic) return;
        cases.push({ op, name, method: c.method ?? op.method, via: c.via ?? 'gateway', query, headers, body, status: c.status, may2xx: valid && op.isPublic });
      };

      if (op.isPublic) add('valid request', {});
      for (const [name, headers] of badAuth) add(`bad auth: ${name}`, { headers: { ...json, ...headers, authorization: headers.authorization ?? '' } });
      const other = ['patient', 'staff', 'service'].find((r) => !op.isPublic && !op.roles.includes(r));
      if (other) add(`wrong role: ${other}`, { headers: { authorization: `Bearer ${goodToken(other)}` } });
      add('foreign origin', { headers: { origin: 'https://evil.example' }, valid: false });
      add('portal origin', { headers: { origin: PORTAL_ORIGIN } });
      add('foreign origin, preflight', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': op.method }, body: undefined, valid: false, status: 403 });
      add('portal origin, preflight', { method: 'OPTIONS', headers: { origin: PORTAL_ORIGIN, 'access-control-request-method': op.method }, body: undefined, valid: false, status: 204 });
      // Past Node's 16 KiB header limit: the gateway's and the function's HTTP parser refuse it.
      add('oversize header (32 KiB)', { headers: { 'x-padding': 'x'.repeat(32 * 1024) }, valid: false, status: 431 });
      add('oversize header to the function URL (32 KiB)', { via: 'function', headers: { 'x-padding': 'x'.repeat(32 * 1024) }, valid: false, status: 431 });
      add('wrong method', { method: op.method === 'GET' ? 'DELETE' : 'PUT', valid: false });

      if (op.body && baseBody) {
        for (const m of MALFORMED) add(`malformed JSON ${JSON.stringify(m)}`, { body: m });
        for (const m of NOT_OBJECTS) add(`JSON that is not an object: ${m}`, { body: m });
        add('empty body', { body: '' });
        add('no body', { body: undefined });
        add('text/plain body', { headers: { 'content-type': 'text/plain' } });
        add('form body', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(baseBody as Record<string, string>).toString() });
        for (const [field, s] of Object.entries<Schema>(op.body.properties ?? {})) {
          for (const v of wrongFor(s)) add(`body/${field} of type ${typeOf(v)}`, { body: JSON.stringify({ ...baseBody, [field]: v }) });
          if (s.type === 'array' && s.items) for (const v of wrongFor(s.items).slice(0, 1)) add(`body/${field}[0] of type ${typeOf(v)}`, { body: JSON.stringify({ ...baseBody, [field]: [v] }) });
          if (s.maxLength) add(`body/${field} too long`, { body: JSON.stringify({ ...baseBody, [field]: 'x'.repeat(s.maxLength + 1) }) });
        }
        for (const field of op.body.required ?? []) {
          const { [field]: _dropped, ...rest } = baseBody;
          add(`body/${field} missing`, { body: JSON.stringify(rest) });
        }
        add('extra field', { body: JSON.stringify({ ...baseBody, [`extra_${rng.string(5)}`]: rng.string(8) }) });
        add('extra nested field', { body: JSON.stringify({ ...baseBody, meta: { admin: true } }) });
        add(`body over the route limit (${ROUTE_BODY_LIMIT} bytes)`, { body: JSON.stringify({ ...baseBody, padding: 'x'.repeat(ROUTE_BODY_LIMIT + 1024) }) });
        // Over faas-js-runtime's 1 MiB limit: through the gateway (which refuses it itself) and to the function's own URL.
        add(`body over 1 MiB (${RUNTIME_BODY_LIMIT + 64 * 1024} bytes)`, { body: JSON.stringify({ ...baseBody, padding: 'x'.repeat(RUNTIME_BODY_LIMIT + 64 * 1024) }) });
        add(`body over 1 MiB to the function URL (${RUNTIME_BODY_LIMIT + 64 * 1024} bytes)`, { via: 'function', body: JSON.stringify({ ...baseBody, padding: 'x'.repeat(RUNTIME_BODY_LIMIT + 64 * 1024) }) });
        const fiveMb = JSON.stringify({ ...baseBody, padding: 'x'.repeat(5 * 1024 * 1024) });
        add('5 MB body', { body: fiveMb, valid: false, status: 413 });
        add('5 MB body to the function URL', { via: 'function', body: fiveMb, valid: false, status: 413 });
        // 5,000 levels in 10 KB: refused before any handler (a recursive size check once overflowed on it).
        const deep = '['.repeat(5000) + ']'.repeat(5000);
        const rest = JSON.stringify(baseBody).slice(1);
        add('JSON nested 5,000 levels', { body: `{"nested":${deep}${rest === '}' ? '' : ','}${rest}`, valid: false, status: 400 });
        add(`JSON nested ${MAX_JSON_DEPTH + 1} levels to the function URL`, { via: 'function', body: `{"x":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`, valid: false, status: 400 });
      } else {
        // GET routes take no body: one sent anyway is ignored, never a crash. Protected ones get it without a token.
        const anon: Record<string, string> = op.isPublic ? {} : { authorization: '' };
        add('GET with malformed JSON body', { headers: { ...anon, 'content-type': 'application/json' }, body: rng.pick(MALFORMED) });
        add(`GET with a body over 1 MiB`, { via: 'function', headers: { ...anon, 'content-type': 'application/json' }, body: `{"padding":"${'x'.repeat(RUNTIME_BODY_LIMIT + 64 * 1024)}"}` });
      }

      if (op.query) {
        for (const [field, s] of Object.entries<Schema>(op.query.properties)) {
          const others = baseQuery.filter(([k]) => k !== field);
          const wrong: Array<[string, string]> = s.type === 'integer' ? [[field, rng.pick(['abc', '1.5', '-0x10', '', '12abc', '1,5', '1e400', 'Infinity', '-Infinity'])]] : [[field, 'a'], [field, 'b']];
          add(`query/${field} of the wrong type`, { query: [...others, ...wrong] });
          if (s.type === 'integer') for (const huge of ['1e400', 'Infinity']) add(`query/${field} not finite (${huge})`, { query: [...others, [field, huge]] });
          if (s.format) add(`query/${field} not a ${s.format}`, { query: [...others, [field, rng.pick(['not-a-value', '2030-13-45', '12345', ' '])]] });
          if (s.enum) add(`query/${field} outside its enum`, { query: [...others, [field, 'BOGUS']] });
        }
        for (const field of op.query.required ?? []) add(`query/${field} missing`, { query: baseQuery.filter(([k]) => k !== field) });
        for (const field of op.query.required ?? []) add(`query/${field} empty`, { query: [...baseQuery.filter(([k]) => k !== field), [field, '']] });
      }
      add('extra query parameter', { query: [...baseQuery, [`extra_${rng.string(4)}`, '1']] });
      add('query parameter named like a context field', { query: [...baseQuery, [rng.pick(['method', 'headers', 'body', 'query']), 'x']] });
      add('query parameter __proto__', { query: [...baseQuery, ['__proto__', '1']] });
    }
    assert.ok(cases.length <= MAX_CASES, `bounded: ${cases.length} cases`);
    for (const op of ops) {
      const mine = cases.filter((c) => c.op === op);
      assert.ok(mine.filter((c) => c.name.startsWith('bad auth')).length >= 8, `${op.method} ${op.path}: bad-auth cases`);
      assert.ok(mine.some((c) => /malformed JSON/.test(c.name)) && mine.some((c) => /over 1 MiB/.test(c.name)), `${op.method} ${op.path}: body cases`);
      // A body whose fields are all optional (one of two, checked by the handler) has no "missing" case.
      if (op.body) assert.ok((!op.body.required?.length || mine.some((c) => / missing$/.test(c.name))) && mine.some((c) => / of type /.test(c.name)), `${op.method} ${op.path}: field cases`);
      if (op.query) assert.ok(mine.some((c) => /^query\/.* wrong type$/.test(c.name)), `${op.method} ${op.path}: query cases`);
    }

    // ---- send, a few at a time ----
    const failures: string[] = [];
    let next = 0;
    const twoxx = new Map<Operation, number>();
    const runOne = async (c: Case) => {
      const qs = c.query.length ? `?${c.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
      const url = (c.via === 'function' ? bundle!.fn(c.op.fn).url + '/' : base + c.op.path) + qs;
      const headers = Object.fromEntries(Object.entries(c.headers).filter(([, v]) => v !== ''));
      const r = await send(url, c.method, headers, c.body);
      const label = `${c.method} ${c.op.path} [${c.name}]${c.via === 'function' ? ' (function URL)' : ''}`;
      if (r.error || r.status === undefined) return failures.push(`${label}: no answer (${r.error})`);
      if (r.sendError) failures.push(`${label}: answered ${r.status} but the client could not finish sending (${r.sendError})`);
      if (c.status !== undefined && r.status !== c.status) failures.push(`${label}: ${r.status}, expected ${c.status}: ${r.text?.slice(0, 200)}`);
      // CORS: an allowed origin is echoed, any other origin (or none) gets no Access-Control-Allow-Origin at all.
      // Answers from the function carry the methods it serves; those of the gateway itself (413 above its limit,
      // 405, 431) carry none.
      const acao = r.headers?.['access-control-allow-origin'];
      const allowedOrigin = c.headers.origin === PORTAL_ORIGIN && r.status !== 431;
      const fromFunction = r.headers?.['access-control-allow-methods'] !== undefined;
      if (allowedOrigin && fromFunction && acao !== PORTAL_ORIGIN) failures.push(`${label}: Access-Control-Allow-Origin ${acao} for the portal origin`);
      if (!allowedOrigin && acao !== undefined) failures.push(`${label}: Access-Control-Allow-Origin ${acao} for origin ${c.headers.origin ?? '(none)'}`);
      if (fromFunction && r.headers?.['access-control-allow-methods'] !== `${c.op.method}, OPTIONS`) failures.push(`${label}: Access-Control-Allow-Methods ${r.headers?.['access-control-allow-methods']}`);
      if (r.status === 204 && c.method === 'OPTIONS') return;
      if (r.status >= 500) return failures.push(`${label}: ${r.status} ${r.text?.slice(0, 200)}`);
      if (r.status >= 200 && r.status < 300) {
        twoxx.set(c.op, (twoxx.get(c.op) ?? 0) + 1);
        if (!c.may2xx) failures.push(`${label}: ${r.status} for input that is not valid (or not public): ${r.text?.slice(0, 200)}`);
        return;
      }
      const type = String(r.headers?.['content-type'] ?? '');
      let problem: any;
      try { problem = JSON.parse(r.text ?? ''); } catch { /* reported below */ }
      if (!/^application\/problem\+json/.test(type)) failures.push(`${label}: ${r.status} answered ${type || 'without content-type'}: ${r.text?.slice(0, 200)}`);
      else if (problem?.status !== r.status || typeof problem?.title !== 'string' || !problem.title) failures.push(`${label}: ${r.status} problem without matching status/title: ${r.text?.slice(0, 200)}`);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) await runOne(cases[next++]);
    }));

    // Still standing: every function reports ready and a public route answers. faas-js-runtime's probes answer
    // 503 while the event loop lags over 42 ms (overload-protection), as on a machine busy with other tests.
    let health = await send(`${base}/health`, 'GET', {}, undefined);
    await eventually(async () => (health = await send(`${base}/health`, 'GET', {}, undefined)).status === 200, 'the bundle to report healthy', 30_000, 250)
      .catch(() => undefined);
    assert.equal(health.status, 200, `the bundle is healthy after ${cases.length} bad requests: ${health.text}`);
    const board = await send(`${base}/api/queue/board?branchId=${BRANCH}`, 'GET', {}, undefined);
    assert.equal(board.status, 200, board.text);

    for (const op of ops.filter((o) => o.isPublic)) assert.ok(twoxx.get(op), `${op.method} ${op.path}: its valid requests were served`);
    assert.deepEqual(failures.slice(0, 40), [], `${failures.length} of ${cases.length} requests misbehaved`);
  });
});
