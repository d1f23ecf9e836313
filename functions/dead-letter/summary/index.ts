// The operators' overview: how many letters are kept in each status and system, which alike failures
// (groups) hold the most letters still waiting, how long the oldest has waited, and a timeline of letters
// received by system. PostgreSQL counts; each figure is one statement, and the four run side by side.
import { route, ok } from '../../shared/http';
import { Prisma } from '../../shared/db';
import type { DeadLetterStatus } from '../../shared/generated/prisma/client';
import { letters, maskedReason, seesPhi, statuses, UNRESOLVED, waiting } from '../letters';
import { system } from '../system';
import { query, summary } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

/** Groups shown, most letters still waiting first. */
const GROUPS = 100;

export const handle = route(
  {
    name: 'dead-letter-summary', system, method: 'GET', path: '/api/dead-letters/summary',
    summary: 'Dead letters by status, system and group, the oldest waiting, and a timeline', auth: ['staff'], grant: 'operator', query,
    responses: { 200: { description: 'the summary', schema: summary } },
  },
  async ({ query, caller, db }) => {
    const bucketMinutes = bucketMinutesFor(query.hours);
    const bucket = bucketMinutes * 60;
    const start = Prisma.sql`to_timestamp(floor(extract(epoch FROM now() - make_interval(hours => ${query.hours})) / ${bucket}) * ${bucket})`;
    const [counts, groups, [oldest], buckets] = await Promise.all([
      db.$queryRaw<Array<{ system: string; status: DeadLetterStatus; count: number }>>`
        SELECT system, status::text AS status, count(*)::int AS count FROM ${letters} GROUP BY system, status ORDER BY system`,
      // Each group's letters counted once; what the group is (consumer, type, code, reason) from its latest letter.
      db.$queryRaw<Array<{ group: string; system: string; eventType: string; consumer: string | null; code: number | null; reason: string | null; count: number; open: number; unresolved: number; firstReceivedAt: Date; lastReceivedAt: Date }>>`
        SELECT g.fingerprint AS "group", l.system, l.event_type AS "eventType", l.consumer, l.error_code AS code, l.reason,
          g.count::int AS count, g.open::int AS open, g.unresolved::int AS unresolved, g.first AS "firstReceivedAt", g.last AS "lastReceivedAt"
        FROM (
          SELECT fingerprint, count(*) AS count, count(*) FILTER (WHERE status = 'open') AS open,
            count(*) FILTER (WHERE ${waiting()}) AS unresolved, min(received_at) AS first, max(received_at) AS last
          FROM ${letters} GROUP BY fingerprint ORDER BY unresolved DESC, last DESC LIMIT ${GROUPS}
        ) g
        CROSS JOIN LATERAL (
          SELECT system, event_type, consumer, error_code, reason FROM ${letters}
          WHERE fingerprint = g.fingerprint ORDER BY received_at DESC, id DESC LIMIT 1
        ) l
        ORDER BY g.unresolved DESC, g.last DESC`,
      // The oldest of each waiting status is the first entry of its index range; the oldest of those wins.
      db.$queryRaw<Array<{ at: Date | null; minutes: number | null }>>`
        SELECT o.at, floor(extract(epoch FROM now() - o.at) / 60)::int AS minutes
        FROM (SELECT least(${Prisma.join(UNRESOLVED.map((s) => Prisma.sql`(SELECT min(received_at) FROM ${letters} WHERE status = ${s}::dead_letter.letter_status)`))}) AS at) o`,
      // Buckets aligned on multiples of their length since the epoch; empty buckets included. The start is
      // written out where it is compared (not a CTE) so the planner sees how few letters it leaves.
      db.$queryRaw<Array<{ at: Date; counts: Record<string, number> }>>`
        SELECT b.at, coalesce(jsonb_object_agg(c.system, c.n) FILTER (WHERE c.system IS NOT NULL), '{}'::jsonb) AS counts
        FROM generate_series(${start}, now(), make_interval(secs => ${bucket})) AS b(at)
        LEFT JOIN (
          SELECT to_timestamp(floor(extract(epoch FROM received_at) / ${bucket}) * ${bucket}) AS at, system, count(*)::int AS n
          FROM ${letters} WHERE received_at >= ${start} GROUP BY 1, 2
        ) c ON c.at = b.at
        GROUP BY b.at ORDER BY b.at`,
    ]);

    const none = () => Object.fromEntries(statuses.map((s) => [s, 0])) as Record<DeadLetterStatus, number>;
    const byStatus = none();
    const bySystem = new Map<string, Record<DeadLetterStatus, number>>();
    for (const c of counts) {
      byStatus[c.status] += c.count;
      if (!bySystem.has(c.system)) bySystem.set(c.system, none());
      bySystem.get(c.system)![c.status] = c.count;
    }
    const phi = seesPhi(caller);
    return ok({
      byStatus,
      bySystem: [...bySystem].map(([name, n]) => ({ system: name, ...n })),
      groups: groups.map((g) => ({ ...g, reason: phi ? g.reason : maskedReason(g.reason), firstReceivedAt: g.firstReceivedAt.toISOString(), lastReceivedAt: g.lastReceivedAt.toISOString() })),
      oldestUnresolvedAt: oldest.at?.toISOString() ?? null,
      oldestUnresolvedMinutes: oldest.minutes,
      timeline: { bucketMinutes, buckets: buckets.map((b) => ({ at: b.at.toISOString(), counts: b.counts })) },
    });
  },
);

/** 15-minute buckets over a day; longer spans take the shortest bucket of an hour or more that keeps them to 96. */
export function bucketMinutesFor(hours: number): number {
  if (hours <= 24) return 15;
  return [60, 120, 180, 240, 360, 480, 720].find((m) => (hours * 60) / m <= 96) ?? 720;
}
