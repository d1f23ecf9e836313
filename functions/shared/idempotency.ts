// idempotent routes: a request carrying an Idempotency-Key has one effect however often it is sent. The
// first request's answer is stored in the same transaction as its effect (<schema>.idempotency_record), so
// a retry gets that answer replayed (header idempotent-replayed: true); a retry while the first is still in
// flight gets 409; the same key with a different request gets 422 (draft-ietf-httpapi-idempotency-key-header).
import { createHash } from 'node:crypto';
import { Prisma, tableOf, type Tx } from './db';
import type { Unit } from './outbox';
import type { EventCatalogue } from './system';
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
 * used before. Lock and lookup are one round trip; the lookup's snapshot may predate a request with the same
 * key that committed just before the lock was granted, and remember() catches exactly that case.
 */
export async function claim(tx: Tx, s: IdempotencyScope): Promise<StoredReply | undefined> {
  const [namespace, lockKey] = idempotencyLock(s);
  const table = tableOf(s.system, 'idempotency_record');
  const [{ locked, ...earlier }] = await tx.$queryRaw<Array<{ locked: boolean } & Partial<StoredReply & { fingerprint: string }>>>`
    SELECT l.locked, r.fingerprint, r.status, r.headers, r.body
    FROM (SELECT pg_try_advisory_xact_lock(${namespace}::int, hashtext(${lockKey})) AS locked) l
    LEFT JOIN LATERAL (
      SELECT fingerprint, status, headers, body FROM ${table}
      WHERE l.locked AND scope = ${s.route} AND caller = ${s.caller} AND key = ${s.key} AND created_at > now() - make_interval(hours => ${KEEP_HOURS})
    ) r ON true`;
  if (!locked) {
    throw new Problem(409, 'Conflict', 'a request with this Idempotency-Key is still being processed; retry shortly', [{ name: 'header/idempotency-key', reason: 'is in use by a request in flight' }], { 'retry-after': '1' });
  }
  if (earlier.fingerprint === undefined || earlier.fingerprint === null) return undefined;
  if (earlier.fingerprint !== s.fingerprint) {
    throw new Problem(422, 'Unprocessable Content', 'this Idempotency-Key was used for a different request', [{ name: 'header/idempotency-key', reason: 'was used with another request body' }]);
  }
  return { status: earlier.status!, headers: { ...earlier.headers, 'idempotent-replayed': 'true' }, body: earlier.body };
}

/** The key was answered by a request that committed while this one started: undo this one and replay that. */
export class KeyAnsweredMeanwhile extends Error {
  constructor() {
    super('a request with this Idempotency-Key committed while this one ran');
  }
}

/**
 * Stores the answer with the effect: written at the end of the unit, in the same statement as its events,
 * replacing an expired record of the key. Expired records of other keys go a few at a time in that same
 * statement (an index on created_at finds them), so the table stays small without a job of its own.
 */
export function remember(unit: Pick<Unit<EventCatalogue>, 'writeAtEnd'>, s: IdempotencyScope, reply: StoredReply): void {
  const table = tableOf(s.system, 'idempotency_record');
  const expired = Prisma.sql`expired AS (
    DELETE FROM ${table} WHERE ctid IN (
      SELECT ctid FROM ${table} WHERE created_at < now() - make_interval(hours => ${KEEP_HOURS})
        AND NOT (scope = ${s.route} AND caller = ${s.caller} AND key = ${s.key}) LIMIT 20))`;
  unit.writeAtEnd(Prisma.sql`
    INSERT INTO ${table} (scope, caller, key, fingerprint, status, headers, body)
    VALUES (${s.route}, ${s.caller}, ${s.key}, ${s.fingerprint}, ${reply.status}, ${JSON.stringify(reply.headers)}::jsonb, ${JSON.stringify(reply.body ?? null)}::jsonb)
    ON CONFLICT (scope, caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
      headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()
      WHERE ${table}.created_at <= now() - make_interval(hours => ${KEEP_HOURS})`, [expired], (written) => {
    // Nothing written: a live record of the key exists that claim() did not see (see there).
    if (written === 0) throw new KeyAnsweredMeanwhile();
  });
}
