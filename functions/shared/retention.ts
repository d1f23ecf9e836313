// Removing what nothing needs any more (inbox rows, idempotency records, old records past retention), in
// batches so no statement holds a table for long; each batch is one statement, safe to run twice or in two
// runs at once.
import { db, Prisma } from './db';

/** Rows one DELETE removes at most. */
export const RETENTION_BATCH = 1000;

/** Runs the batch statement (which must remove at most RETENTION_BATCH rows) until a batch comes back short; the rows removed. */
export async function deleteInBatches(statement: () => Prisma.Sql): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await db().$executeRaw(statement());
    removed += n;
    if (n < RETENTION_BATCH) return removed;
  }
}

/** The instant `days` days before `now`: a retention's cutoff. */
export const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

/**
 * Removes, in batches, a table's rows whose time column is before the cutoff (by ctid: the table needs no
 * key); the rows removed. The column is one of ours, never input.
 */
export function deleteOlderThan(table: Prisma.Sql, column: string, cutoff: Date): Promise<number> {
  const at = Prisma.raw(`"${column}"`);
  return deleteInBatches(() => Prisma.sql`
    DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${at} < ${cutoff}::timestamptz LIMIT ${RETENTION_BATCH}))`);
}
