// Bearer tokens, verified with jose. In production they come from the clinic's OpenID Connect provider:
// RS256/ES256 (or PS256/EdDSA) signatures checked against its JWKS URL (keys cached; an unknown kid refetches,
// so key rotation needs no restart), issuer, audience and exp checked with a small clock skew. Outside
// production without AUTH_JWKS_URL: HS256 dev tokens (npm start, tests, npm run token); production refuses HS256.
// Roles: patient (own records), staff (their branch; '*' = every branch), service (another system). Staff may
// also hold grants, further values of the same roles claim (Keycloak realm roles, Auth0 roles): operator
// (the dead-letter console and API), phi (event data unmasked there, every view recorded; patients' lab
// results, every view audited), admin (clinic resources, schedules and visit types of the appointment system)
// and clinician (releasing, withholding held lab results and recording the call about a critical value).
import { createHmac } from 'node:crypto';
import {
  createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify,
  type FetchImplementation, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type RemoteJWKSet,
} from 'jose';
import { unauthorized, unavailable, type Problem } from './errors';
import { logger } from './log';

export type Role = 'patient' | 'staff' | 'service';
export type Tier = 'svip' | 'vip';
export interface PatientCaller { role: 'patient'; subject: string; patientId: string; tier?: Tier }
export type Grant = 'operator' | 'phi' | 'admin' | 'clinician';
/** No branchId = every branch. */
export interface StaffCaller { role: 'staff'; subject: string; branchId?: string; grants?: Grant[] }
export interface ServiceCaller { role: 'service'; subject: string }
export type Caller = PatientCaller | StaffCaller | ServiceCaller;

const ROLES: readonly Role[] = ['patient', 'staff', 'service'];
const GRANTS: readonly Grant[] = ['operator', 'phi', 'admin', 'clinician'];
/** Branch claim value of staff who cover every branch. A staff token without the claim is refused, so a
 *  misconfigured AUTH_BRANCH_CLAIM locks staff out instead of opening every branch to them. */
export const ALL_BRANCHES = '*';
const DEV_SECRET = 'dev-only-secret-not-for-production';
/** Asymmetric only: an HS* token verified with a public key is the classic algorithm-confusion attack. */
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
const MAX_CLOCK_SKEW_SECONDS = 300;
const log = logger.child({ fn: 'auth' });

interface ClaimPaths { roles: string; branch: string; tier: string; patientId: string }

type AuthConfig = {
  clockSkewSeconds: number;
  issuer?: string;
  audience?: string;
  claims: ClaimPaths;
} & (
  | { mode: 'jwks'; jwksUrl: URL; cooldownMs: number; cacheMaxAgeMs: number }
  | { mode: 'dev'; secret: string }
);

const isProduction = () => process.env.NODE_ENV === 'production';

function seconds(name: string, fallback: number, max = Infinity): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be a whole number of seconds from 0 to ${max}, not "${raw}"`);
  return n;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set: tokens from the OpenID Connect provider cannot be verified without it`);
  return value;
}

/** Read on every call (cheap), so tests and `npm start` see the environment as it is now. */
function authConfig(): AuthConfig {
  const common = {
    clockSkewSeconds: seconds('AUTH_CLOCK_SKEW_SECONDS', 30, MAX_CLOCK_SKEW_SECONDS),
    claims: {
      roles: process.env.AUTH_ROLES_CLAIM || 'roles',
      branch: process.env.AUTH_BRANCH_CLAIM || 'branch_id',
      tier: process.env.AUTH_TIER_CLAIM || 'tier',
      patientId: process.env.AUTH_PATIENT_ID_CLAIM || 'sub',
    },
  };
  if (isProduction() || process.env.AUTH_JWKS_URL) {
    const raw = required('AUTH_JWKS_URL');
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(raw);
    } catch {
      throw new Error(`AUTH_JWKS_URL is not a URL: "${raw}"`);
    }
    // Keys fetched over plain HTTP could be swapped on the way: production takes http only from this machine.
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(jwksUrl.hostname);
    if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && (loopback || !isProduction()))) {
      throw new Error(`AUTH_JWKS_URL must be an https URL, not "${raw}"`);
    }
    return {
      ...common,
      mode: 'jwks',
      jwksUrl,
      // Without issuer and audience a token the provider issued to any other application would be accepted.
      issuer: required('AUTH_ISSUER'),
      audience: required('AUTH_AUDIENCE'),
      cooldownMs: seconds('AUTH_JWKS_COOLDOWN_SECONDS', 30) * 1000,
      cacheMaxAgeMs: seconds('AUTH_JWKS_CACHE_SECONDS', 600) * 1000,
    };
  }
  return {
    ...common,
    mode: 'dev',
    secret: process.env.AUTH_JWT_SECRET || DEV_SECRET,
    issuer: process.env.AUTH_ISSUER || undefined,
    audience: process.env.AUTH_AUDIENCE || undefined,
  };
}

/** Throws an Error naming the variable when the auth configuration cannot work. Functions call it at start-up. */
export function assertAuthConfig(): void {
  authConfig();
}

// ---- keys from the provider's JWKS URL ----

/** The key server could not give us keys: not the caller's fault, so 503 rather than 401. */
class KeyServerUnavailable extends Error {}

// Every way fetching the key set can fail becomes KeyServerUnavailable here, so it cannot be mistaken for a
// bad token (jose's own errors for both cases share classes).
const fetchKeySet: FetchImplementation = async (url, options) => {
  let response: Response;
  try {
    response = await fetch(url, options);
  } catch (cause) {
    throw new KeyServerUnavailable(`cannot reach the JWKS URL (${String((cause as Error)?.name ?? cause)})`, { cause });
  }
  if (response.status !== 200) throw new KeyServerUnavailable(`the JWKS URL answered ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new KeyServerUnavailable('the JWKS URL sent no JSON', { cause });
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object')) {
    throw new KeyServerUnavailable('the JWKS URL sent no JSON Web Key Set');
  }
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
};

const remoteKeySets = new Map<string, RemoteJWKSet>();

function remoteKeySet(config: Extract<AuthConfig, { mode: 'jwks' }>): RemoteJWKSet {
  const id = `${config.jwksUrl.href} ${config.cooldownMs} ${config.cacheMaxAgeMs}`;
  let keySet = remoteKeySets.get(id);
  if (!keySet) {
    keySet = createRemoteJWKSet(config.jwksUrl, {
      cooldownDuration: config.cooldownMs,
      cacheMaxAge: config.cacheMaxAgeMs,
      timeoutDuration: 3000,
      [customFetch]: fetchKeySet,
    });
    remoteKeySets.set(id, keySet);
  }
  return keySet;
}

/**
 * Fetches the provider's keys now (lifecycle init), so a cold pod's first patient does not wait for them.
 * A key server that is down now is no reason not to start: verification fetches again on demand.
 */
export async function prefetchProviderKeys(): Promise<void> {
  const config = authConfig();
  if (config.mode !== 'jwks') return;
  await remoteKeySet(config).reload().catch(() => undefined);
}

/** jose's remote key set, but while the key server is down the last keys fetched still verify tokens they
 *  know (a provider blip must not log out every patient); a token whose key they lack gets 503, not 401. */
function providerKeys(config: Extract<AuthConfig, { mode: 'jwks' }>): JWTVerifyGetKey {
  return async (header, token) => {
    const keySet = remoteKeySet(config);
    try {
      return await keySet(header, token);
    } catch (err) {
      if (!(err instanceof KeyServerUnavailable)) throw err;
      const last = keySet.jwks();
      if (last) {
        try {
          return await createLocalJWKSet(last)(header, token);
        } catch (stale) {
          if (!(stale instanceof errors.JWKSNoMatchingKey)) throw stale;
        }
      }
      throw err;
    }
  };
}

// ---- verification ----

/** A claim by dot path ("realm_access.roles"); a top-level name containing dots (Auth0's namespaced
 *  "https://medlab.example/roles") is found as it is. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function refusal(err: unknown): Problem {
  if (err instanceof errors.JWTExpired) return unauthorized('token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return unauthorized(err.claim === 'exp' ? 'token has no expiry (exp)' : `token has no ${err.claim} claim`);
    return unauthorized(`token ${err.claim} claim is not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized('token algorithm is not accepted');
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthorized('bad token signature');
  if (err instanceof errors.JWKSNoMatchingKey) return unauthorized('token is signed with an unknown key');
  // Not jose's verdict on the token (e.g. a provider key that cannot be imported): refuse, but leave a trace.
  if (!(err instanceof errors.JOSEError)) log.warn({ reason: String(err) }, 'token verification failed unexpectedly');
  return unauthorized('malformed bearer token');
}

/** One identity, one portal role. A token with several (a nurse who is also a patient) is refused rather than
 *  guessed: picking staff would let them act on records as staff while using the patient app, picking patient
 *  depends on claim order. The provider should issue such a person one account (or client) per role. */
function portalRole(value: unknown, claim: string): Role {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const roles = [...new Set(values.filter((v): v is Role => ROLES.includes(v as Role)))];
  if (roles.length === 0) throw unauthorized(`token carries no portal role (claim ${claim})`);
  if (roles.length > 1) throw unauthorized(`token carries several portal roles (${roles.join(', ')}); one is required`);
  return roles[0];
}

function callerOf(payload: JWTPayload, claims: ClaimPaths): Caller {
  const subject = payload.sub;
  if (typeof subject !== 'string' || !subject) throw unauthorized('token has no subject (sub)');
  const role = portalRole(claimAt(payload, claims.roles), claims.roles);
  if (role === 'patient') {
    const patientId = claimAt(payload, claims.patientId);
    if (typeof patientId !== 'string' || !patientId) throw unauthorized(`token has no patient id (claim ${claims.patientId})`);
    const tier = claimAt(payload, claims.tier);
    return { role, subject, patientId, ...(tier === 'svip' || tier === 'vip' ? { tier } : {}) };
  }
  if (role === 'staff') {
    const branch = claimAt(payload, claims.branch);
    if (typeof branch !== 'string' || !branch) throw unauthorized(`staff token has no branch (claim ${claims.branch}; "${ALL_BRANCHES}" = every branch)`);
    const values = claimAt(payload, claims.roles);
    const grants = GRANTS.filter((g) => (Array.isArray(values) ? values : [values]).includes(g));
    return { role, subject, ...(branch === ALL_BRANCHES ? {} : { branchId: branch }), ...(grants.length ? { grants } : {}) };
  }
  return { role, subject };
}

/**
 * Tokens already verified, until they expire. A portal session sends the same token with every call, and a
 * signature check (ES256 through the JWKS) costs more than the rest of a request's plumbing. The key holds
 * the settings the verdict depends on, so a token verified under one provider, secret or claim mapping is
 * never honoured under another. Bounded: the oldest entries go first.
 */
const verified = new Map<string, { caller: Caller; until: number }>();
const VERIFIED_MAX = 10_000;
const SETTINGS = ['NODE_ENV', 'AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWT_SECRET', 'AUTH_ROLES_CLAIM', 'AUTH_BRANCH_CLAIM', 'AUTH_TIER_CLAIM', 'AUTH_PATIENT_ID_CLAIM', 'AUTH_CLOCK_SKEW_SECONDS'];

async function verify(token: string): Promise<Caller> {
  let key = token;
  for (const name of SETTINGS) key += `\n${process.env[name] ?? ''}`;
  const hit = verified.get(key);
  if (hit) {
    if (Date.now() < hit.until) return hit.caller;
    verified.delete(key);
  }
  const { caller, expiresAt } = await verifyNow(token);
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(key, { caller, until: expiresAt });
  return caller;
}

async function verifyNow(token: string): Promise<{ caller: Caller; expiresAt: number }> {
  const config = authConfig();
  const options: JWTVerifyOptions = {
    clockTolerance: config.clockSkewSeconds,
    // A leaked token without exp would be valid for ever.
    requiredClaims: ['exp', 'sub'],
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };
  let payload: JWTPayload;
  try {
    payload = config.mode === 'jwks'
      ? (await jwtVerify(token, providerKeys(config), { ...options, algorithms: JWKS_ALGORITHMS })).payload
      : (await jwtVerify(token, new TextEncoder().encode(config.secret), { ...options, algorithms: ['HS256'] })).payload;
  } catch (err) {
    if (err instanceof KeyServerUnavailable) {
      log.warn({ reason: err.message }, 'token keys unavailable');
      throw unavailable('the token key server cannot be reached; retry shortly', 10);
    }
    throw refusal(err);
  }
  // jwtVerify required exp; the token stays good until exp plus the clock tolerance it was checked with.
  return { caller: callerOf(payload, config.claims), expiresAt: (payload.exp! + config.clockSkewSeconds) * 1000 };
}

/** undefined without an Authorization header; Problem 401 for a bad token, 503 (Retry-After) when the JWKS
 *  cannot be fetched. */
export async function callerFrom(headers: Record<string, string | string[] | undefined>): Promise<Caller | undefined> {
  const value = headers.authorization;
  const auth = Array.isArray(value) ? value[0] : value;
  if (!auth) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!match) throw unauthorized('Authorization must be "Bearer <token>"');
  return verify(match[1]);
}

// ---- HS256 dev tokens (npm start, npm run token, tests) ----

export interface DevTokenClaims {
  sub: string;
  role: Role;
  /** Staff: their branch; omitted = every branch (written as "*"). */
  branchId?: string;
  tier?: Tier;
  /** Staff: grants carried beside the role in the roles claim (operator, phi, admin, clinician). */
  grants?: Grant[];
  exp?: number;
}

function devSecret(): string {
  if (isProduction()) throw new Error('HS256 dev tokens are refused in production (NODE_ENV=production)');
  return process.env.AUTH_JWT_SECRET || DEV_SECRET;
}

function setClaim(payload: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = payload;
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
  at[parts[parts.length - 1]] = value;
}

/** Signs an HS256 dev token with the claim names the verifier reads (AUTH_*_CLAIM), so dev and provider tokens
 *  go through one reading path. Synchronous on purpose: tests and scripts mint tokens inline. */
export function signToken(claims: DevTokenClaims, secret = devSecret()): string {
  const { claims: paths, issuer, audience } = authConfig();
  const payload: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), sub: claims.sub };
  if (claims.exp !== undefined) payload.exp = claims.exp;
  if (issuer) payload.iss = issuer;
  if (audience) payload.aud = audience;
  setClaim(payload, paths.roles, [claims.role, ...(claims.grants ?? [])]);
  if (claims.role === 'patient' && paths.patientId !== 'sub') setClaim(payload, paths.patientId, claims.sub);
  if (claims.role === 'staff' || claims.branchId !== undefined) setClaim(payload, paths.branch, claims.branchId ?? ALL_BRANCHES);
  if (claims.tier) setClaim(payload, paths.tier, claims.tier);
  const b64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
