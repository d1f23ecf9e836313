// One Prisma client per process. PostgreSQL (driver adapter pg) when DATABASE_URL is set; otherwise an
// embedded PGlite database under .data/pglite, so a laptop needs no database server.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/prisma/client';
import { unavailable } from './errors';

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
export type { Prisma } from './generated/prisma/client';

let client: PrismaClient | undefined;
let pglite: PGlite | undefined;

export function usingEmbeddedDatabase(): boolean {
  return !process.env.DATABASE_URL;
}

export function embeddedDataDir(): string {
  return process.env.PGLITE_DIR ?? path.join(process.cwd(), '.data', 'pglite');
}

/** The embedded database; one instance per process, because PGlite's files belong to one process. */
export function embeddedDatabase(): PGlite {
  if (!pglite) {
    const dir = embeddedDataDir();
    if (dir !== 'memory') mkdirSync(dir, { recursive: true });
    pglite = new PGlite(dir === 'memory' ? undefined : dir);
  }
  return pglite;
}

export function driverAdapter() {
  const url = process.env.DATABASE_URL;
  if (url) {
    return new PrismaPg({
      connectionString: url,
      max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
      connectionTimeoutMillis: Number(process.env.DATABASE_CONNECT_TIMEOUT_MS ?? 5000),
    });
  }
  return new PrismaPGlite(embeddedDatabase());
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

/** Prisma's unique-constraint violation. */
export function isUniqueViolation(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e.code === 'P2002' || e.code === '23505' || e.originalCode === '23505' || e.kind === 'UniqueConstraintViolation') return true;
  }
  return false;
}
