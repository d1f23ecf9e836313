// Bearer tokens: HS256 JWTs signed with AUTH_JWT_SECRET. Roles: patient (acts on their own records),
// staff (acts on their branch; no branchId claim = all branches), service (another system).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { forbidden, unauthorized } from './errors';

export type Role = 'patient' | 'staff' | 'service';

export interface Caller {
  subject: string;
  role: Role;
  /** For patients: their patient id (the token subject). */
  patientId?: string;
  /** For staff: the branch they work at; absent for staff who cover every branch. */
  branchId?: string;
  /** Patient tier from the CRM, decides the queue lane: svip, vip or none. */
  tier?: 'svip' | 'vip';
}

const DEV_SECRET = 'dev-only-secret-not-for-production';

export function jwtSecret(): string {
  const secret = process.env.AUTH_JWT_SECRET;
  if (secret) return secret;
  if (process.env.NODE_ENV === 'production') {
    throw new Error('AUTH_JWT_SECRET must be set in production');
  }
  return DEV_SECRET;
}

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

export interface TokenClaims {
  sub: string;
  role: Role;
  branchId?: string;
  tier?: 'svip' | 'vip';
  exp?: number;
  iat?: number;
}

export function signToken(claims: Omit<TokenClaims, 'iat'>, secret = jwtSecret()): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iat: Math.floor(Date.now() / 1000), ...claims }));
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

export function verifyToken(token: string, secret = jwtSecret()): Caller {
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthorized('malformed bearer token');
  const [header, payload, sig] = parts;
  let head: { alg?: string };
  let claims: Partial<TokenClaims>;
  try {
    head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw unauthorized('malformed bearer token');
  }
  if (head.alg !== 'HS256') throw unauthorized('unsupported token algorithm');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized('bad token signature');
  // Tokens must expire: a leaked token without exp would be valid for ever.
  if (typeof claims.exp !== 'number') throw unauthorized('token has no expiry (exp)');
  if (claims.exp * 1000 < Date.now()) throw unauthorized('token expired');
  if (typeof claims.sub !== 'string' || !claims.sub) throw unauthorized('token has no subject');
  if (claims.role !== 'patient' && claims.role !== 'staff' && claims.role !== 'service') {
    throw unauthorized('token has no valid role');
  }
  return {
    subject: claims.sub,
    role: claims.role,
    patientId: claims.role === 'patient' ? claims.sub : undefined,
    branchId: claims.branchId,
    tier: claims.tier === 'svip' || claims.tier === 'vip' ? claims.tier : undefined,
  };
}

export function callerFrom(headers: Record<string, string | string[] | undefined>): Caller | undefined {
  const value = headers.authorization;
  const auth = Array.isArray(value) ? value[0] : value;
  if (!auth) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!match) throw unauthorized('Authorization must be "Bearer <token>"');
  return verifyToken(match[1]);
}

/** Staff may act on their own branch only (staff without a branchId claim cover all branches). */
export function assertBranchAccess(caller: Caller, branchId: string): void {
  if (caller.role === 'service') return;
  if (caller.role === 'staff' && (!caller.branchId || caller.branchId === branchId)) return;
  throw forbidden(`you cannot act on branch ${branchId}`);
}

/** A patient may touch only their own records; staff and services act for patients. */
export function assertPatientAccess(caller: Caller, patientId: string | null | undefined): void {
  if (caller.role !== 'patient') return;
  if (caller.patientId && caller.patientId === patientId) return;
  throw forbidden('this record belongs to another patient');
}

/** A record owned by a patient at a branch: the patient themselves, staff of that branch, or a service. */
export function assertAccess(caller: Caller, record: { patientId?: string | null; branchId: string }): void {
  if (caller.role === 'patient') return assertPatientAccess(caller, record.patientId);
  assertBranchAccess(caller, record.branchId);
}
