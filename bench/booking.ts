// Row 1 — booking throughput. Many patients book through the book-slot function over real HTTP (faas-js-runtime
// CLI serving the compiled function, as its container does) against PostgreSQL: JWT check, validation, the
// booking transaction with its outbox rows, and the post-commit publish to Kafka. Most requests go to slots with
// room to spare; a share goes to small hot slots that fill up, so the capacity check is exercised. Reference, in
// the same run and alternating with it: pgbench's TPC-B with as many clients.
import path from 'node:path';
import pg from 'pg';
import type { BenchContext, Row } from './lib/context';
import { closedLoop, openLoop, countBy, type LoadResult, type Request } from './lib/load';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { exec } from './lib/exec';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

/** Distinct patients the load books for (tokens signed up front, rotated over requests). */
const PATIENTS = 4000;
const BRANCH = 'bench-b1';
const SERVICE = 'bench-draw';
const REGULAR_SLOTS = 500;
const REGULAR_CAPACITY = 1000;
const HOT_SLOTS = 4;
const HOT_CAPACITY = 10;
const WARMUP_MS = 2000;

function pgConnArgs(adminUrl: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(adminUrl);
  return {
    args: ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')],
    env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password), PGAPPNAME: 'portal-bench' },
  };
}

async function seed(pool: pg.Pool, hotGroups: number): Promise<{ regular: string[]; hot: string[][] }> {
  await pool.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench booking branch', 'Asia/Ho_Chi_Minh')`, [BRANCH]);
  await pool.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ($1, 'Bench blood draw', 'A', 5, false)`, [SERVICE]);
  const regular = await pool.query<{ id: string }>(
    `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
     SELECT gen_random_uuid(), $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
     FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '2 days' + i * interval '5 minutes' AS t) x
     RETURNING id::text`, [BRANCH, SERVICE, REGULAR_CAPACITY, REGULAR_SLOTS]);
  const hot: string[][] = [];
  for (let g = 0; g < hotGroups; g++) {
    const r = await pool.query<{ id: string }>(
      `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
       SELECT gen_random_uuid(), $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
       FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '30 days' + ($5 * 100 + i) * interval '5 minutes' AS t) x
       RETURNING id::text`, [BRANCH, SERVICE, HOT_CAPACITY, HOT_SLOTS, g]);
    hot.push(r.rows.map((x) => x.id));
  }
  return { regular: regular.rows.map((x) => x.id), hot };
}

export async function bookingThroughput(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const clients = config.clients;
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  let fn: FunctionProcess | undefined;
  try {
    // Hot slot groups: one for the warm-up, one per measured run (peak and paced), so each run fills its own.
    const { regular, hot } = await seed(pool, 1 + 2 * config.repeats);
    // Many patients, as at a real branch: one patient holds one place per slot and a few a day, so a client
    // booking again and again as one patient would measure those refusals, not booking.
    const tokens = await Promise.all(Array.from({ length: PATIENTS }, (_, p) => ctx.token(`bench-patient-${p}`, 'patient')));
    const patientOf = (c: number, seq: number) => tokens[(seq * clients + c) % PATIENTS];
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const booking = (label: string, hotGroup: string[], token: string, key: string): Request => ({
      method: 'POST',
      path: '/',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `${label}-${key}` },
      body: JSON.stringify({ slotId: Math.random() < config.hotShare ? pick(hotGroup) : pick(regular) }),
    });

    fn = await startFunctionProcess({
      name: 'book-slot',
      file: ctx.build.js('functions/booking-queue/book-slot/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/book-slot'),
      // The daily cap per patient is a rule of the portal, not of this load: the pool's patients book far more
      // than a real patient would, so the cap is lifted here (one place per patient and slot still holds).
      env: ctx.functionEnv('book-slot', { BOOKING_DAILY_LIMIT: '100000' }),
    });
    const url = fn.url;

    // pgbench's own database, initialised once (scale = its number of branches).
    const conn = pgConnArgs(ctx.adminUrl);
    const pgbenchDb = new URL(await ctx.createDatabase('pgbench')).pathname.slice(1);
    const init = await exec(ctx.pgbench, [...conn.args, '-i', '-q', '-s', String(config.pgbenchScale), pgbenchDb], { env: conn.env, timeoutMs: 300_000 });
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr.slice(-2000)}`);

    let created = 0;
    const tally = (r: LoadResult) => { created += r.samples.filter((s) => s.status === 201).length; return r; };

    ctx.log(`  warm-up ${WARMUP_MS / 1000} s`);
    tally(await closedLoop({ url, clients, durationMs: WARMUP_MS, request: (c, seq) => booking('warm', hot[0], patientOf(c, seq), `${c}-${seq}`) }));

    const peak: Array<{ bookings: number; requests: number; total: number; full: number; other: number; errors: number; firstError?: string; p50: number; p99: number }> = [];
    const tps: number[] = [];
    const pgLatency: number[] = [];
    for (let r = 0; r < config.repeats; r++) {
      const res = tally(await closedLoop({
        url, clients, durationMs: config.bookingSecs * 1000,
        request: (c, seq) => booking(`peak${r}`, hot[1 + r], patientOf(c, seq), `${c}-${seq}`),
      }));
      const by = countBy(res.samples);
      const secs = res.elapsedMs / 1000;
      const ok = res.samples.filter((s) => s.status === 201).map((s) => s.ms);
      peak.push({
        bookings: (by[201] ?? 0) / secs,
        requests: res.samples.length / secs,
        total: res.samples.length,
        full: by[409] ?? 0,
        other: res.samples.length - (by[201] ?? 0) - (by[409] ?? 0),
        errors: res.errors,
        firstError: res.firstError,
        p50: percentile(ok, 50),
        p99: percentile(ok, 99),
      });
      ctx.log(`  run ${r + 1}: ${fmt(peak[r].bookings)} bookings/s (${fmt(peak[r].requests)} req/s, statuses ${JSON.stringify(by)}, errors ${res.errors})`);

      const bench = await exec(ctx.pgbench, [...conn.args, '-c', String(clients), '-j', '2', '-T', String(config.bookingSecs), pgbenchDb], {
        env: conn.env, timeoutMs: config.bookingSecs * 1000 + 120_000,
      });
      const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(bench.stdout);
      if (bench.code !== 0 || !m) throw new Error(`pgbench failed (${bench.code}): ${bench.stderr.slice(-2000)}${bench.stdout.slice(-1000)}`);
      tps.push(Number(m[1]));
      const lat = /latency average = ([\d.]+) ms/.exec(bench.stdout);
      pgLatency.push(lat ? Number(lat[1]) : NaN);
      ctx.log(`  pgbench ${r + 1}: ${fmt(tps[r])} TPS`);
    }

    const peakRequests = median(peak.map((p) => p.requests));
    const rate = peakRequests / 2;
    const paced: Array<{ p50: number; p99: number; achieved: number; other: number; errors: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      let rr = 0;
      const res = tally(await openLoop({
        url, rate, durationMs: config.bookingSecs * 1000, maxInFlight: clients,
        request: (seq) => booking(`paced${r}`, hot[1 + config.repeats + r], patientOf((rr = seq % clients), seq), `${rr}-${seq}`),
      }));
      const by = countBy(res.samples);
      const ok = res.samples.filter((s) => s.status === 201).map((s) => s.ms);
      paced.push({
        p50: percentile(ok, 50), p99: percentile(ok, 99),
        achieved: res.samples.length / (res.elapsedMs / 1000),
        other: res.samples.length - (by[201] ?? 0) - (by[409] ?? 0),
        errors: res.errors,
      });
      ctx.log(`  paced ${r + 1} at ${fmt(rate)} req/s: p50 ${ms(paced[r].p50)}, p99 ${ms(paced[r].p99)} (statuses ${JSON.stringify(by)})`);
    }

    // Capacity: no slot over capacity, and every slot's counter equals its live bookings.
    const over = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.slot WHERE booked > capacity`)).rows[0].n);
    const mismatch = Number((await pool.query(
      `SELECT count(*) AS n FROM booking_queue.slot s
       LEFT JOIN (SELECT slot_id, count(*) AS c FROM booking_queue.booking WHERE status <> 'cancelled' GROUP BY slot_id) b ON b.slot_id = s.id
       WHERE s.booked <> coalesce(b.c, 0)`)).rows[0].n);
    const rows = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.booking b JOIN booking_queue.slot s ON s.id = b.slot_id WHERE s.branch_id = $1`, [BRANCH])).rows[0].n);
    const hotIds = hot.slice(1).flat();
    const hotFull = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.slot WHERE id = ANY($1::uuid[]) AND booked = capacity`, [hotIds])).rows[0].n);
    // The post-commit publish: how long until the outbox is empty once the load stops (bounded wait).
    const drainStart = performance.now();
    let unpublished = NaN;
    while (performance.now() - drainStart < 30_000) {
      unpublished = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.outbox_event WHERE published_at IS NULL`)).rows[0].n);
      if (unpublished === 0) break;
      await sleep(100);
    }
    const drainMs = performance.now() - drainStart;
    const outboxTotal = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.outbox_event`)).rows[0].n);

    const bookings = median(peak.map((p) => p.bookings));
    const medTps = median(tps);
    const other = peak.reduce((a, p) => a + p.other + p.errors, 0) + paced.reduce((a, p) => a + p.other + p.errors, 0);
    const problems: string[] = [];
    if (over) problems.push(`${over} slot(s) booked over capacity`);
    if (mismatch) problems.push(`${mismatch} slot(s) whose booked counter differs from their live bookings`);
    if (rows !== created) problems.push(`${created} answers were 201 but ${rows} booking rows exist`);
    if (other) problems.push(`${other} requests answered neither 201 nor 409 (first error: ${peak.find((p) => p.firstError)?.firstError ?? 'a non-2xx/409 status'})`);
    const fullShare = peak.reduce((a, p) => a + p.full, 0) / Math.max(1, peak.reduce((a, p) => a + p.total, 0));
    return {
      n: 1,
      name: 'Booking throughput (book-slot over HTTP → PostgreSQL + outbox)',
      result: `${fmt(bookings)} bookings/s`,
      reference: `${fmt(medTps)} TPS (pgbench TPC-B)`,
      ratio: ratio(bookings, medTps),
      notes: [
        `latency at half the peak (${fmt(rate)} req/s, open loop): p50 ${ms(median(paced.map((p) => p.p50)))}, p99 ${ms(median(paced.map((p) => p.p99)))} (201 answers; achieved ${fmt(median(paced.map((p) => p.achieved)))} req/s)`,
        `at peak (closed loop): p50 ${ms(median(peak.map((p) => p.p50)))}, p99 ${ms(median(peak.map((p) => p.p99)))}; pgbench latency average ${ms(median(pgLatency))}`,
        `over-capacity bookings: ${over} slots with booked > capacity; ${mismatch} slots with booked ≠ live bookings; ${hotFull}/${hotIds.length} hot slots filled exactly to capacity`,
        `answers: ${(fullShare * 100).toFixed(1)}% 409 (full hot slot) at peak; ${other} other statuses or connection errors; ${rows} booking rows = ${created} answers 201`,
        `outbox: ${outboxTotal} events written, ${Number.isNaN(unpublished) ? '?' : unpublished} unpublished when the outbox was last checked, ${ms(drainMs)} after the load stopped (waits up to 30 s for 0)`,
      ],
      inputs: [
        `${clients} concurrent clients (keep-alive HTTP/1.1), each a patient with its own HS256 JWT; POST / {slotId} with a unique Idempotency-Key`,
        `${REGULAR_SLOTS} slots × capacity ${REGULAR_CAPACITY}; ${(config.hotShare * 100).toFixed(0)}% of requests go to ${HOT_SLOTS} hot slots × capacity ${HOT_CAPACITY} (a fresh group per run)`,
        `${config.repeats} peak runs × ${config.bookingSecs} s closed loop after a ${WARMUP_MS / 1000} s warm-up; then ${config.repeats} runs × ${config.bookingSecs} s open loop at 50% of the median peak req/s (max ${clients} in flight, latency from the scheduled send time)`,
        `book-slot: compiled JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=10, KAFKA_BROKERS=Kafka mock broker (post-commit publish on)`,
        `reference: pgbench -i -s ${config.pgbenchScale}; pgbench -c ${clients} -j 2 -T ${config.bookingSecs} (TPC-B), alternating with the peak runs`,
      ],
      runs: [
        `bookings/s: ${runs(peak.map((p) => p.bookings))}`,
        `requests/s at peak: ${runs(peak.map((p) => p.requests))}`,
        `pgbench TPS: ${runs(tps)}`,
        `paced p50 ms: ${runs(paced.map((p) => p.p50))}; p99 ms: ${runs(paced.map((p) => p.p99))}`,
      ],
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
  }
}
