// Operators look through dead letters: by system, KafkaSource, consumer, event type, group, status, HTTP code
// and age, newest first, a page at a time. Pages follow a keyset cursor (received time and id), so letters
// arriving meanwhile never shift a page into a gap or a repeat, and every page is an index range scan.
import { route, ok } from '../../shared/http';
import { invalid } from '../../shared/domain-errors';
import { Prisma } from '../../shared/db';
import { letters, letterSummary, seesPhi, type LetterRow } from '../letters';
import { system } from '../system';
import { query, page } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'dead-letter-list', system, method: 'GET', path: '/api/dead-letters',
    summary: 'Dead letters, filtered, newest first, a page at a time', auth: ['staff'], grant: 'operator', query,
    responses: { 200: { description: 'a page of letters and the cursor of the next (null on the last page)', schema: page } },
    refuses: { invalid: 'a cursor this list did not give' },
  },
  async ({ query, caller, db }) => {
    const where: Prisma.Sql[] = [];
    if (query.system) where.push(Prisma.sql`system = ${query.system}`);
    if (query.source) where.push(Prisma.sql`kafka_source = ${query.source}`);
    if (query.consumer) where.push(Prisma.sql`consumer = ${query.consumer}`);
    if (query.type) where.push(Prisma.sql`event_type = ${query.type}`);
    if (query.group) where.push(Prisma.sql`fingerprint = ${query.group}`);
    if (query.status) where.push(Prisma.sql`status = ${query.status}::dead_letter.letter_status`);
    if (query.code !== undefined) where.push(Prisma.sql`error_code = ${query.code}`);
    if (query.olderThanMinutes !== undefined) where.push(Prisma.sql`received_at <= now() - make_interval(mins => ${query.olderThanMinutes})`);
    if (query.newerThanMinutes !== undefined) where.push(Prisma.sql`received_at > now() - make_interval(mins => ${query.newerThanMinutes})`);
    if (query.cursor) {
      const after = positionOf(query.cursor);
      where.push(Prisma.sql`(received_at, id) < (${after.receivedAt}::timestamptz, ${after.id}::uuid)`);
    }
    // One row more than the page tells whether another page follows.
    const rows = await db.$queryRaw<LetterRow[]>`
      SELECT ${letterColumns} FROM ${letters}
      ${where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty}
      ORDER BY received_at DESC, id DESC
      LIMIT ${query.limit + 1}`;
    const shown = rows.slice(0, query.limit);
    const last = shown.at(-1);
    return ok({
      letters: shown.map((l) => letterSummary(l, seesPhi(caller))),
      nextCursor: rows.length > query.limit && last ? cursorAt(last) : null,
    });
  },
);

/** Every column of a letter's summary (not the event or the consumer's answer), named as Prisma names them. */
export const letterColumns = Prisma.sql`id::text AS id, event_id AS "eventId", event_source AS "eventSource", event_type AS "eventType", topic,
  kafka_source AS "kafkaSource", consumer, error_dest AS "errorDest", error_code AS "errorCode", reason, fingerprint, attempts, truncated,
  received_at AS "receivedAt", last_seen_at AS "lastSeenAt", system, partition, kafka_offset AS "offset", record_key AS "key",
  status::text AS status, status_reason AS "statusReason", status_by AS "statusBy", status_at AS "statusAt", resolution, retries,
  next_retry_at AS "nextRetryAt"`;

// The cursor is opaque to callers: base64url of the last letter's received time (ms) and id.
const cursorAt = (l: Pick<LetterRow, 'receivedAt' | 'id'>) => Buffer.from(`${l.receivedAt.getTime()}.${l.id}`).toString('base64url');

function positionOf(cursor: string): { receivedAt: Date; id: string } {
  const m = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m) throw invalid('not a cursor this list gave; start again without one', 'cursor');
  return { receivedAt: new Date(Number(m[1])), id: m[2] };
}
