// idempotent routes: a request carrying an Idempotency-Key has one effect however often it is sent. The
// first request's answer is stored in the same transaction as its effect (<schema>.idempotency_record), so
// a retry gets that answer replayed (header idempotent-replayed: true); a retry while the first is still in
// flight gets 409; the same key with a different request gets 422 (draft-ietf-httpapi-idempotency-key-header).
import { createHash } from 'node:crypto';
import { tableOf, type Tx } from './db';
import { Problem } from './errors';
import type { System } from './system';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How long an answer is kept for replay. */
const KEEP_HOURS = 24;

export interface StoredReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface IdempotencyScope {
  system: System;
  /** The function (a key is scoped to one route and one caller). */
  route: string;
  caller: string;
  key: string;
  /** Hash of the request the key was first used with. */
  fingerprint: string;
}

export function fingerprintOf(body: unknown, query: unknown): string {
  return createHash('sha256').update(JSON.stringify([body ?? null, query ?? null])).digest('base64url');
}

/** The key from the request, checked: printable, at most 200 characters. */
export function keyFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value || value.length > 200 || !/^[\x21-\x7e]+$/.test(value)) {
    throw new Problem(400, 'Invalid Request', 'Idempotency-Key must be 1–200 printable characters', [{ name: 'header/idempotency-key', reason: 'must be 1–200 printable ASCII characters' }]);
  }
  return value;
}

/** The advisory lock (namespace, key) a request holds on its Idempotency-Key while it runs. */
export function idempotencyLock(s: Pick<IdempotencyScope, 'system' | 'route' | 'caller' | 'key'>): [number, string] {
  return [4, `${s.system.schema}/${s.route}/${s.caller}/${s.key}`];
}

/**
 * Inside the request's transaction, before the handler: takes the key (a transaction-scoped advisory lock:
 * a second request with it while this one runs is told 409), and returns the stored answer if the key was
 * used before.
 */
export async function claim(tx: Tx, s: IdempotencyScope): Promise<StoredReply | undefined> {
  const [namespace, lockKey] = idempotencyLock(s);
  const [{ locked }] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${namespace}::int, hashtext(${lockKey})) AS locked`;
  if (!locked) {
    throw new Problem(409, 'Conflict', 'a request with this Idempotency-Key is still being processed; retry shortly', [{ name: 'header/idempotency-key', reason: 'is in use by a request in flight' }], { 'retry-after': '1' });
  }
  const table = tableOf(s.system, 'idempotency_record');
  const [earlier] = await tx.$queryRaw<Array<StoredReply & { fingerprint: string }>>`
    SELECT fingerprint, status, headers, body FROM ${table}
    WHERE scope = ${s.route} AND caller = ${s.caller} AND key = ${s.key} AND created_at > now() - make_interval(hours => ${KEEP_HOURS})`;
  if (!earlier) return undefined;
  if (earlier.fingerprint !== s.fingerprint) {
    throw new Problem(422, 'Unprocessable Content', 'this Idempotency-Key was used for a different request', [{ name: 'header/idempotency-key', reason: 'was used with another request body' }]);
  }
  return { status: earlier.status, headers: { ...earlier.headers, 'idempotent-replayed': 'true' }, body: earlier.body };
}

/** Stores the answer with the effect (same transaction), replacing an expired record of the key. */
export async function remember(tx: Tx, s: IdempotencyScope, reply: StoredReply): Promise<void> {
  const table = tableOf(s.system, 'idempotency_record');
  await tx.$executeRaw`
    INSERT INTO ${table} (scope, caller, key, fingerprint, status, headers, body)
    VALUES (${s.route}, ${s.caller}, ${s.key}, ${s.fingerprint}, ${reply.status}, ${JSON.stringify(reply.headers)}::jsonb, ${JSON.stringify(reply.body ?? null)}::jsonb)
    ON CONFLICT (scope, caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
      headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()`;
  // Expired records go a few at a time, so the table stays small without a job of its own.
  await tx.$executeRaw`
    DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE created_at < now() - make_interval(hours => ${KEEP_HOURS}) LIMIT 20)`;
}
