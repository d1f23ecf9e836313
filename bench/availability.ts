// Row 5 — availability query at volume. A database of its own is seeded with SQL generate_series (100k slots over
// 20 branches and 50 days, 1M bookings), then the availability function (compiled, faas-js-runtime CLI) is asked
// for one branch's free places over 30 days. Measured: the route over HTTP, and the very statements it sends
// (captured on the wire from the function itself for one request, lib/pg-wire.ts) executed directly with pg, in
// the same order with the same parameters — the reference, so the ratio is what the function adds on top of its
// own SQL. EXPLAIN (ANALYZE, BUFFERS) of the slot query shows which index the planner picks; the expected one is
// slot_branch_id_starts_at_idx (@@index([branchId, startsAt]) in prisma/schema/booking-queue.prisma).
import { indexScans } from './lib/plan';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../scripts/lib/migrations';
import { addDays, branchDay } from '../functions/booking-queue/calendar';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, type FunctionProcess } from './lib/procs';
import { startPgCapture, describeStatements, type WireStatement } from './lib/pg-wire';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const INDEX = 'slot_branch_id_starts_at_idx';
const BRANCHES = 20;
const SERVICES = ['blood-draw', 'check-up'];
const SLOTS_PER_DAY = 50; // every 15 minutes from 07:00 branch time
const TIMEZONE = 'Asia/Ho_Chi_Minh';
const DAYS_QUERIED = 30;
const TARGET = 1.3;

/**
 * Slots the slot query returned, counted after the clock stops: one row per slot, or (when PostgreSQL builds
 * the answer) one row holding the whole document as JSON text.
 */
function slotsIn(result: { rowCount?: number | null; rows?: Array<Record<string, unknown>> } | undefined): number {
  const only = result?.rows?.length === 1 ? Object.values(result.rows[0])[0] : undefined;
  if (typeof only === 'string' && only.startsWith('{')) {
    const doc = JSON.parse(only) as { days?: Array<{ slots: unknown[] }> };
    if (Array.isArray(doc.days)) return doc.days.reduce((a, d) => a + d.slots.length, 0);
  }
  return result?.rowCount ?? 0;
}

/** The statements the availability function sends for one request (the third: the first ones connect and warm up). */
async function captureRoute(ctx: BenchContext, url: string, query: string): Promise<WireStatement[]> {
  const relay = await startPgCapture(url);
  let fn: FunctionProcess | undefined;
  try {
    fn = await startFunctionProcess({
      name: 'availability (capture)',
      file: ctx.build.js('functions/booking-queue/availability/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/availability'),
      env: ctx.functionEnv('availability', { DATABASE_URL: relay.url }),
    });
    let window: WireStatement[] = [];
    for (let k = 0; k < 3; k++) {
      const from = relay.statements().length;
      const res = await fetch(`${fn.url}/?${query}`, { signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`availability answered ${res.status} during the capture: ${text.slice(0, 300)}`);
      window = relay.statements().slice(from);
    }
    const failed = window.find((s) => s.error);
    if (failed) throw new Error(`a captured statement failed: ${failed.error}`);
    if (!window.length) throw new Error('the availability function sent no statement for a request');
    return window;
  } finally {
    await fn?.stop();
    await relay.close();
  }
}

/** Sends a captured statement as the driver did: extended protocol with its parameters, or a simple query. */
const send = (c: pg.Pool | pg.PoolClient, s: WireStatement) => (s.protocol === 'extended' ? c.query({ text: s.sql, values: s.values }) : c.query(s.sql));

export async function availabilityQuery(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const url = await ctx.createDatabase('avail');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let fn: FunctionProcess | undefined;
  let sqlClient: pg.PoolClient | undefined;
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
                (CASE WHEN (d * 50 + k) % 97 = 0 THEN 'closed' ELSE 'open' END)::booking_queue.slot_status, now()
         FROM generate_series(0, $1 - 1) b, unnest($2::text[]) sv, generate_series(0, $3 - 1) d, generate_series(0, $4 - 1) k,
              LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + (d - 10) * interval '1 day' + k * interval '15 minutes' AS t) x
         LIMIT $5`, [BRANCHES, SERVICES, days, SLOTS_PER_DAY, config.availSlots]);
      const per = config.availBookingsPerSlot;
      // Bookings: `per` a slot, the last of each cancelled; booked = the live ones (kept consistent).
      await c.query(
        `INSERT INTO booking_queue.booking (id, slot_id, patient_id, status, channel, created_at, updated_at)
         SELECT gen_random_uuid(), s.id, 'p-' || ((abs(hashtext(s.id::text)) + j) % 200000),
                (CASE WHEN j = $1 - 1 THEN 'cancelled' ELSE 'confirmed' END)::booking_queue.booking_status, 'portal', now(), now()
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
    const routeQuery = new URLSearchParams({ branchId, from, to }).toString();
    const statements = await captureRoute(ctx, url, routeQuery);
    // The slot query (the one that reads slot rows in order): EXPLAIN it, and count its rows against the answer.
    const slotQuery = statements.find((s) => /FROM\s+"?\w+"?\."?slot"?\s/i.test(s.sql) && /ORDER BY/i.test(s.sql)) ?? statements[statements.length - 1];
    const sql = slotQuery.sql;
    const params = slotQuery.values;
    const explain = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const scans = indexScans(explain).map((s) => `${s.kind} on ${s.index}`);
    const used = explain.includes(INDEX);
    const seqScan = /Seq Scan on slot/.test(explain);

    fn = await startFunctionProcess({
      name: 'availability',
      file: ctx.build.js('functions/booking-queue/availability/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/availability'),
      env: ctx.functionEnv('availability', { DATABASE_URL: url }),
    });
    const routeUrl = `${fn.url}/?${routeQuery}`;
    const call = async () => {
      const t = performance.now();
      const res = await fetch(routeUrl, { signal: AbortSignal.timeout(30_000) });
      const body = await res.json() as { days?: Array<{ slots: unknown[] }> };
      if (res.status !== 200) throw new Error(`availability answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t, slots: (body.days ?? []).reduce((a, d) => a + d.slots.length, 0) };
    };
    const conn = (sqlClient = await pool.connect());
    const query = async () => {
      const t = performance.now();
      let slotRows: Awaited<ReturnType<typeof send>> | undefined;
      for (const s of statements) {
        const r = await send(conn, s);
        if (s === slotQuery) slotRows = r;
      }
      const ms = performance.now() - t;
      return { ms, rows: slotsIn(slotRows) };
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
    const hp99 = median(httpRuns.map((x) => x.p99));
    const sp99 = median(sqlRuns.map((x) => x.p99));
    const problems: string[] = [];
    if (slotsAnswered !== rowsReturned) problems.push(`the route listed ${slotsAnswered} slots but its SQL returns ${rowsReturned}`);
    return {
      n: 5,
      name: `Availability query (${DAYS_QUERIED} days of one branch; ${Number(counts.slots).toLocaleString('en-US')} slots, ${Number(counts.bookings).toLocaleString('en-US')} bookings)`,
      result: `route p50 ${ms(hp50)}, p99 ${ms(hp99)}`,
      reference: `its SQL p50 ${ms(sp50)}, p99 ${ms(sp99)}`,
      ratio: `${ratio(hp50, sp50)} p50, ${ratio(hp99, sp99)} p99`,
      target: `≤ ${TARGET}× (p50)`,
      met: hp50 / sp50 <= TARGET,
      notes: [
        `the route sends ${statements.length} statement(s) per request (wire capture below); the reference sends the same, in order, with the same parameters, on one connection`,
        `index: ${INDEX} used: ${used ? 'yes' : 'no'}${used ? '' : ` — the plan uses ${scans.length ? scans.join(', ') : 'no index'}${seqScan ? ' (sequential scan of slot)' : ''}`}`,
        `plan: ${scans.join('; ') || 'no index scan'}${seqScan ? '; Seq Scan on slot' : ''}; ${rowsReturned} slots with free places returned (${slotsAnswered} listed by the route)`,
        `seeding with generate_series took ${fmt(seedMs / 1000)} s`,
      ],
      inputs: [
        `own database: ${BRANCHES} branches × ${SERVICES.length} services × ${days} days × ${SLOTS_PER_DAY} slots (every 15 min from 07:00 ${TIMEZONE}, from 10 days ago) = ${counts.slots} slots; ${config.availBookingsPerSlot} bookings per slot (1 cancelled) = ${counts.bookings} bookings; 1 slot in 5 full, ~1 in 97 closed; ANALYZE after seeding`,
        `GET /?branchId=${branchId}&from=${from}&to=${to} (${DAYS_QUERIED} branch-local days from tomorrow) on the availability function (built, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info); one client, sequential`,
        `reference: the statements the function sent for one such request (captured on the wire after 2 unrecorded requests), sent again with pg on one connection (extended protocol with the captured parameters where the function used it), alternating with the route calls`,
        `${config.repeats} runs × ${config.availQueries} calls of each after 10 warm-up calls; p50/p99 per run, median of the runs`,
      ],
      runs: [
        `route p50 ms: ${runs(httpRuns.map((x) => x.p50))}; p99 ms: ${runs(httpRuns.map((x) => x.p99))}`,
        `SQL p50 ms: ${runs(sqlRuns.map((x) => x.p50))}; p99 ms: ${runs(sqlRuns.map((x) => x.p99))}`,
      ],
      appendix: `What the availability function sent for one request (wire capture):\n\n${describeStatements(statements, 2000).join('\n')}\n\nparameters of the slot query: ${JSON.stringify(params)}\n\nEXPLAIN (ANALYZE, BUFFERS) of the slot query:\n\n${explain}`,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    sqlClient?.release();
    await fn?.stop();
    await pool.end();
  }
}
