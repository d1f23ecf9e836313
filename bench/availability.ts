// Row 5 — availability query at volume. A database of its own is seeded with SQL generate_series (100k slots over
// 20 branches and 50 days, 1M bookings), then the availability function (compiled, faas-js-runtime CLI) is asked
// for one branch's free places over 30 days. Measured: the route over HTTP, and the very SQL it runs (captured
// from Prisma's query log for the same findMany) executed directly — the reference, so the ratio is what the
// function adds on top of its own query. EXPLAIN (ANALYZE, BUFFERS) of that SQL shows which index the planner
// picks; the expected one is slot_branch_id_starts_at_idx (@@index([branchId, startsAt]) in prisma/schema/booking-queue.prisma).
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../functions/shared/generated/prisma/client';
import { applyMigrations } from '../scripts/lib/migrations';
import { addDays, branchDay, localTimeToUtc } from '../functions/booking-queue/calendar';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, type FunctionProcess } from './lib/procs';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const INDEX = 'slot_branch_id_starts_at_idx';
const BRANCHES = 20;
const SERVICES = ['blood-draw', 'check-up'];
const SLOTS_PER_DAY = 50; // every 15 minutes from 07:00 branch time
const TIMEZONE = 'Asia/Ho_Chi_Minh';
const DAYS_QUERIED = 30;

/** The SQL Prisma sends for the availability function's slot query (same findMany, query log on). */
async function captureSql(url: string, branchId: string, from: string, to: string): Promise<{ sql: string; params: unknown[] }> {
  let captured: { sql: string; params: unknown[] } | undefined;
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 1 }), log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (e) => {
    if (/FROM "public"\."slot"/.test(e.query) && /ORDER BY/.test(e.query)) captured = { sql: e.query, params: JSON.parse(e.params) };
  });
  try {
    // Mirrors functions/booking-queue/availability/index.ts.
    await client.slot.findMany({
      where: {
        branchId,
        startsAt: { gte: localTimeToUtc(from, '00:00', TIMEZONE), lt: localTimeToUtc(addDays(to, 1), '00:00', TIMEZONE), gt: new Date() },
        status: 'open',
        booked: { lt: client.slot.fields.capacity },
      },
      orderBy: { startsAt: 'asc' },
    });
  } finally {
    await client.$disconnect();
  }
  if (!captured) throw new Error('Prisma did not report the slot query');
  return captured;
}

export async function availabilityQuery(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const url = await ctx.createDatabase('avail');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  let fn: FunctionProcess | undefined;
  try {
    const days = Math.ceil(config.availSlots / (BRANCHES * SERVICES.length * SLOTS_PER_DAY));
    const t0 = performance.now();
    const c = await pool.connect();
    try {
      await c.query(`SET synchronous_commit = off`);
      await c.query(`INSERT INTO booking_queue.branch (id, name, timezone) SELECT 'av-' || lpad(b::text, 2, '0'), 'Bench branch ' || b, $1 FROM generate_series(0, $2 - 1) b`, [TIMEZONE, BRANCHES]);
      await c.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ('blood-draw', 'Blood draw', 'A', 15, false), ('check-up', 'Check-up', 'B', 15, true)`);
      // Days from 10 days ago on; 07:00 branch time is 00:00 UTC. One slot in 5 is full (capacity 9 = its
      // 9 live bookings), about one in 97 closed; the rest have 3 free places.
      await c.query(
        `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
         SELECT gen_random_uuid(), 'av-' || lpad(b::text, 2, '0'), sv, t, t + interval '15 minutes',
                CASE WHEN k % 5 = 0 THEN 9 ELSE 12 END, 0,
                (CASE WHEN (d * 50 + k) % 97 = 0 THEN 'closed' ELSE 'open' END)::slot_status, now()
         FROM generate_series(0, $1 - 1) b, unnest($2::text[]) sv, generate_series(0, $3 - 1) d, generate_series(0, $4 - 1) k,
              LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + (d - 10) * interval '1 day' + k * interval '15 minutes' AS t) x
         LIMIT $5`, [BRANCHES, SERVICES, days, SLOTS_PER_DAY, config.availSlots]);
      const per = config.availBookingsPerSlot;
      // Bookings: `per` a slot, the last of each cancelled; booked = the live ones (kept consistent).
      await c.query(
        `INSERT INTO booking_queue.booking (id, slot_id, patient_id, status, channel, created_at, updated_at)
         SELECT gen_random_uuid(), s.id, 'p-' || ((abs(hashtext(s.id::text)) + j) % 200000),
                (CASE WHEN j = $1 - 1 THEN 'cancelled' ELSE 'confirmed' END)::booking_status, 'portal', now(), now()
         FROM booking_queue.slot s CROSS JOIN generate_series(0, $1 - 1) j`, [per]);
      await c.query(`UPDATE booking_queue.slot SET booked = $1 - 1`, [per]);
      await c.query(`ANALYZE`);
    } finally {
      c.release();
    }
    const seedMs = performance.now() - t0;
    const { rows: [counts] } = await pool.query<{ slots: string; bookings: string }>(`SELECT (SELECT count(*) FROM booking_queue.slot) AS slots, (SELECT count(*) FROM booking_queue.booking) AS bookings`);
    ctx.log(`  seeded ${counts.slots} slots, ${counts.bookings} bookings in ${fmt(seedMs / 1000)} s`);

    const branchId = 'av-07';
    const from = addDays(branchDay(new Date(), TIMEZONE), 1);
    const to = addDays(from, DAYS_QUERIED - 1);
    const { sql, params } = await captureSql(url, branchId, from, to);
    const explain = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const scans = [...explain.matchAll(/(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/g)].map((m) => `${m[1]} on ${m[2]}`);
    const used = explain.includes(INDEX);
    const seqScan = /Seq Scan on slot/.test(explain);

    fn = await startFunctionProcess({
      name: 'availability',
      file: ctx.build.js('functions/booking-queue/availability/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/availability'),
      env: ctx.functionEnv('availability', { DATABASE_URL: url }),
    });
    const routeUrl = `${fn.url}/?${new URLSearchParams({ branchId, from, to })}`;
    const call = async () => {
      const t = performance.now();
      const res = await fetch(routeUrl, { signal: AbortSignal.timeout(30_000) });
      const body = await res.json() as { days?: Array<{ slots: unknown[] }> };
      if (res.status !== 200) throw new Error(`availability answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t, slots: (body.days ?? []).reduce((a, d) => a + d.slots.length, 0) };
    };
    const query = async () => {
      const t = performance.now();
      const r = await pool.query(sql, params);
      return { ms: performance.now() - t, rows: r.rowCount ?? 0 };
    };
    // Warm-up: connections, JIT, the buffer cache.
    let slotsAnswered = 0;
    let rowsReturned = 0;
    for (let i = 0; i < 10; i++) { slotsAnswered = (await call()).slots; rowsReturned = (await query()).rows; }

    const httpRuns: Array<{ p50: number; p99: number }> = [];
    const sqlRuns: Array<{ p50: number; p99: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const h: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < config.availQueries; i++) {
        h.push((await call()).ms);
        s.push((await query()).ms);
      }
      httpRuns.push({ p50: percentile(h, 50), p99: percentile(h, 99) });
      sqlRuns.push({ p50: percentile(s, 50), p99: percentile(s, 99) });
      ctx.log(`  run ${r + 1}: route p50 ${ms(httpRuns[r].p50)} p99 ${ms(httpRuns[r].p99)}; SQL p50 ${ms(sqlRuns[r].p50)} p99 ${ms(sqlRuns[r].p99)}`);
    }
    const hp50 = median(httpRuns.map((x) => x.p50));
    const sp50 = median(sqlRuns.map((x) => x.p50));
    const problems: string[] = [];
    if (slotsAnswered !== rowsReturned) problems.push(`the route listed ${slotsAnswered} slots but its SQL returns ${rowsReturned}`);
    return {
      n: 5,
      name: `Availability query (${DAYS_QUERIED} days of one branch; ${Number(counts.slots).toLocaleString('en-US')} slots, ${Number(counts.bookings).toLocaleString('en-US')} bookings)`,
      result: `route p50 ${ms(hp50)}, p99 ${ms(median(httpRuns.map((x) => x.p99)))}`,
      reference: `its SQL p50 ${ms(sp50)}, p99 ${ms(median(sqlRuns.map((x) => x.p99)))}`,
      ratio: ratio(hp50, sp50),
      notes: [
        `index: ${INDEX} used: ${used ? 'yes' : 'no'}${used ? '' : ` — the plan uses ${scans.length ? scans.join(', ') : 'no index'}${seqScan ? ' (sequential scan of slot)' : ''}`}`,
        `plan: ${scans.join('; ') || 'no index scan'}${seqScan ? '; Seq Scan on slot' : ''}; ${rowsReturned} slots with free places returned (${slotsAnswered} listed by the route)`,
        `seeding with generate_series took ${fmt(seedMs / 1000)} s`,
      ],
      inputs: [
        `own database: ${BRANCHES} branches × ${SERVICES.length} services × ${days} days × ${SLOTS_PER_DAY} slots (every 15 min from 07:00 ${TIMEZONE}, from 10 days ago) = ${counts.slots} slots; ${config.availBookingsPerSlot} bookings per slot (1 cancelled) = ${counts.bookings} bookings; 1 slot in 5 full, ~1 in 97 closed; ANALYZE after seeding`,
        `GET /?branchId=${branchId}&from=${from}&to=${to} (${DAYS_QUERIED} branch-local days from tomorrow) on the availability function (compiled, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info); one client, sequential`,
        `reference: the slot query's SQL as Prisma sends it (captured from its query log), run with pg on one connection, alternating with the route calls`,
        `${config.repeats} runs × ${config.availQueries} calls of each after 10 warm-up calls; p50/p99 per run, median of the runs`,
      ],
      runs: [
        `route p50 ms: ${runs(httpRuns.map((x) => x.p50))}; p99 ms: ${runs(httpRuns.map((x) => x.p99))}`,
        `SQL p50 ms: ${runs(sqlRuns.map((x) => x.p50))}; p99 ms: ${runs(sqlRuns.map((x) => x.p99))}`,
      ],
      appendix: `SQL (as Prisma sends it):\n\n${sql}\n\nparameters: ${JSON.stringify(params)}\n\nEXPLAIN (ANALYZE, BUFFERS):\n\n${explain}`,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
  }
}
