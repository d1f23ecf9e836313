// Anyone can see where a branch still has free places: open slots that have not started and are not full,
// grouped by the branch-local day they fall on.
import { route, ok, JsonText } from '../../shared/http';
import { invalid, notFound } from '../../shared/domain-errors';
import { Prisma, tableOf } from '../../shared/db';
import { branchDaySql, dayStartSql, daysCovered } from '../calendar';
import { system } from '../system';
import { query, availability, MAX_DAYS } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'availability', system, method: 'GET', path: '/api/availability',
    summary: 'Free places at a branch, day by day', auth: 'public', query,
    responses: { 200: { description: 'bookable slots by branch-local day', schema: availability } },
    refuses: { 'not-found': 'no such branch', invalid: `the range must not end before it starts, nor cover more than ${MAX_DAYS} days` },
  },
  async ({ query, db }) => {
    if (query.to < query.from) throw invalid('the range ends before it starts', 'to');
    if (daysCovered(query.from, query.to) > MAX_DAYS) throw invalid(`ask for at most ${MAX_DAYS} days at once`, 'to');

    // One statement builds the whole answer: a calendar of thousands of slots is JSON straight from
    // PostgreSQL, not rows turned into objects and back into text. The range is whole branch-local days
    // (the branch's time zone, by PostgreSQL's zone rules); whatever has already started is no longer bookable.
    const [{ document }] = await db.$queryRaw<Array<{ document: string | null }>>`
      SELECT (SELECT json_build_object('branchId', b.id, 'from', ${query.from}::text, 'to', ${query.to}::text, 'days', coalesce((
        SELECT json_agg(json_build_object('date', d.date, 'slots', d.slots) ORDER BY d.date)
        FROM (
          SELECT ${branchDaySql(startsAt, timezone)} AS date,
            json_agg(json_build_object('slotId', s.id, 'serviceId', s.service_id, 'startsAt', ${iso('s.starts_at')}, 'endsAt', ${iso('s.ends_at')},
              'capacity', s.capacity, 'free', s.capacity - s.booked) ORDER BY s.starts_at) AS slots
          FROM ${slotTable} s
          WHERE s.branch_id = b.id
            AND s.starts_at >= ${dayStartSql(Prisma.sql`${query.from}::date`, timezone)}
            AND s.starts_at < ${dayStartSql(Prisma.sql`${query.to}::date + 1`, timezone)}
            AND s.starts_at > now() AND s.status = 'open' AND s.booked < s.capacity
            ${query.serviceId ? Prisma.sql`AND s.service_id = ${query.serviceId}` : Prisma.empty}
          GROUP BY 1) d), '[]'::json))::text
        FROM ${tableOf(system, 'branch')} b WHERE b.id = ${query.branchId}) AS document`;
    if (document === null) throw notFound('branchId', 'no such branch');
    return ok(new JsonText(document));
  },
);

const slotTable = tableOf(system, 'slot');
const startsAt = Prisma.raw('s.starts_at');
const timezone = Prisma.raw('b.timezone');

/** An instant as toISOString() writes it (UTC, milliseconds, Z). */
const iso = (column: string) => Prisma.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
