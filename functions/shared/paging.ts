// Keyset pages, newest first, over (created_at, id): rows arriving meanwhile never shift a page into a gap or
// a repeat, and every page is one index range scan. The cursor is opaque to callers (base64url of the last
// row's time in ms and its id); one this API did not give is refused naming the field.
import { invalid } from './domain-errors';

export interface Position { createdAt: Date; id: string }

export const cursorAt = (row: Position): string => Buffer.from(`${row.createdAt.getTime()}.${row.id}`).toString('base64url');

export function positionOf(cursor: string, field = 'cursor'): Position {
  const m = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m) throw invalid('not a cursor this list gave; start again without one', field);
  return { createdAt: new Date(Number(m[1])), id: m[2] };
}

/** Prisma's where for "after this position" in (createdAt DESC, id DESC) order. */
export const after = (p: Position) => ({ OR: [{ createdAt: { lt: p.createdAt } }, { createdAt: p.createdAt, id: { lt: p.id } }] });

/** One row more than the page was read: it tells whether another page follows. */
export function pageOf<T extends Position>(rows: T[], limit: number): { shown: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { shown, nextCursor: rows.length > limit && last ? cursorAt(last) : null };
}
