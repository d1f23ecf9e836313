// One Prisma client per process, on PostgreSQL at DATABASE_URL (driver adapter pg). A laptop (npm start,
// tests, npm run function) may register an embedded database instead (scripts/lib/laptop); a function never
// picks one by itself, so in a cluster a missing DATABASE_URL is an error naming it.
import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client';
import { unavailable } from './errors';

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
export { Prisma };

/** "<schema>"."<table>" of a system, for raw SQL (defineSystem checks the schema is a plain identifier). */
export const tableOf = (system: { schema: string }, table: string) => Prisma.raw(`"${system.schema}"."${table}"`);
/** "<schema>"."<type>" of a system's enum, for a cast in raw SQL. */
export const typeOf = tableOf;

type AdapterFactory = ConstructorParameters<typeof PrismaClient>[0] extends { adapter?: infer A } ? NonNullable<A> : never;

let client: PrismaClient | undefined;
let laptopAdapter: (() => AdapterFactory) | undefined;

/** The laptop's embedded database, used only while DATABASE_URL is unset. Refused in production. */
export function useLaptopDatabase(adapter: () => AdapterFactory): void {
  if (process.env.NODE_ENV === 'production') throw new Error('the embedded database is laptop machinery; set DATABASE_URL in production');
  laptopAdapter = adapter;
}

/**
 * Each statement's name: the hash of its text. pg prepares a named statement once per connection and then
 * only binds and executes it, so PostgreSQL skips parsing and planning (for the kit's CTE statements, most of
 * its CPU per call). A connection lives at most DATABASE_CONNECTION_MAX_LIFETIME_S (30 min), which bounds the
 * statements it keeps. DATABASE_PREPARED_STATEMENTS=false turns it off (a PgBouncer older than 1.21 in
 * transaction mode cannot carry named statements).
 */
const statementName = (query: { sql: string }) => `s${createHash('sha1').update(query.sql).digest('base64url')}`;

function driverAdapter(): AdapterFactory {
  const url = process.env.DATABASE_URL;
  if (url) {
    return new PrismaPg({
      connectionString: url,
      max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
      connectionTimeoutMillis: Number(process.env.DATABASE_CONNECT_TIMEOUT_MS ?? 5000),
      maxLifetimeSeconds: Number(process.env.DATABASE_CONNECTION_MAX_LIFETIME_S ?? 1800),
    }, process.env.DATABASE_PREPARED_STATEMENTS === 'false' ? {} : { statementNameGenerator: statementName });
  }
  if (laptopAdapter) return laptopAdapter();
  throw new Error('DATABASE_URL is not set: there is no database to use');
}

export function db(): PrismaClient {
  if (!client) client = new PrismaClient({ adapter: driverAdapter() });
  return client;
}

export async function closeDb(): Promise<void> {
  const c = client;
  client = undefined;
  await c?.$disconnect();
}

/** An error and the causes it wraps (Prisma → driver adapter → pg), a few levels deep. */
function* causes(err: unknown): Generator<any> {
  for (let e: any = err, depth = 0; e && depth < 6; e = e.cause, depth++) yield e;
}

const TRANSIENT_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034', '40001', '40P01', '57P01', '57P03', '08006', '08001', '08003', '3D000', '53300']);
const TRANSIENT_TEXT = /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|connection is insecure|timeout exceeded when trying to connect|Can't reach database|the database system is (starting up|shutting down)|database "[^"]*" does not exist|too many clients|Connection ended|Client has encountered a connection error|Client was closed and is not queryable|DatabaseNotReachable|ConnectionClosed|TransactionWriteConflict|deadlock detected|could not serialize/i;

/** True when the database was unreachable or asked us to retry: the caller should get 503, not 500. */
export function isTransientDbError(err: unknown): boolean {
  for (const e of causes(err)) {
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && TRANSIENT_TEXT.test(e.message)) return true;
    if (e.kind && TRANSIENT_TEXT.test(String(e.kind))) return true;
    if (e.originalCode && TRANSIENT_CODES.has(String(e.originalCode))) return true;
  }
  return false;
}

const RETRY_TEXT = /deadlock detected|could not serialize|TransactionWriteConflict|40001|40P01/i;

export function asUnavailable(err: unknown) {
  if (!isTransientDbError(err)) return undefined;
  const conflict = RETRY_TEXT.test(String((err as Error)?.message ?? err)) || RETRY_TEXT.test(String((err as { code?: string })?.code));
  return conflict
    ? unavailable('the request collided with another change; retry it', 1)
    : unavailable('the database is unavailable; retry shortly', 5);
}

/** A unique-constraint violation; with `constraint`, only that index or constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (const e of causes(err)) {
    if (e.code === 'P2002' || e.code === '23505' || e.originalCode === '23505' || e.kind === 'UniqueConstraintViolation') {
      // Which index: the driver adapter names it in Prisma's meta, pg in `constraint`.
      return !constraint || JSON.stringify(e.meta ?? '').includes(constraint) || e.constraint === constraint;
    }
  }
  return false;
}

/** An exclusion-constraint violation (23P01): e.g. two holdings of one resource that would overlap in time. */
export function isExclusionViolation(err: unknown, constraint?: string): boolean {
  for (const e of causes(err)) {
    if (e.code === '23P01' || e.originalCode === '23P01' || /23P01|violates exclusion constraint/.test(String(e.message ?? ''))) {
      return !constraint || JSON.stringify(e.meta ?? '').includes(constraint) || e.constraint === constraint || String(e.message ?? '').includes(constraint);
    }
  }
  return false;
}
