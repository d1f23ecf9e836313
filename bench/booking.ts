// Row 1 — booking throughput. Many patients book through the book-slot function over real HTTP (faas-js-runtime
// CLI serving the built function, as its container does) against PostgreSQL: JWT check, validation, the
// booking transaction with its idempotency and outbox rows, and the post-commit publish to Kafka.
// Reference, in the same run and alternating with it: pgbench running the route's own transaction. One booking
// is sent through a wire-protocol relay (lib/pg-wire.ts) that records what the function sends to PostgreSQL;
// the pgbench script is generated from that capture in every run (lib/replay.ts), so it follows the code under
// test. Both sides book in the same slots for the same patients, with as many HTTP clients, function pool
// connections and pgbench clients (BENCH_CLIENTS), and both must write the same rows per booking.
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import type { BenchContext, Row } from './lib/context';
import { closedLoop, openLoop, countBy, type LoadResult, type Request } from './lib/load';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { startPgCapture, splitAtCommit, type WireStatement } from './lib/pg-wire';
import { Splitter, templateOf, parameterTypes, pgbenchScript, writesByTable, tableCounts, perTx, showPerTx, pgbenchMode, replayAppendix, type PgbenchScript } from './lib/replay';
import { runPgbench } from './lib/tools';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const BRANCH = 'bench-b1';
const SERVICE = 'bench-draw';
/** Patients and slots of the pool. Booking number i books patient i mod PATIENTS in slot (i + ⌊i/PATIENTS⌋) mod
 *  SLOTS: consecutive bookings spread over the slots, and no pair (patient, slot) repeats below PATIENTS × SLOTS
 *  (gcd(PATIENTS + 1, SLOTS) = 1), so neither side ever meets "already holds a place" — pgbench could not branch on it. */
const PATIENTS = 4000;
const SLOTS = 1000;
/** Far more than the run books: the regular slots never fill (pgbench's replay cannot take the "full" branch). */
const REGULAR_CAPACITY = 1_000_000;
const HOT_SLOTS = 4;
const HOT_CAPACITY = 10;
const WARMUP_MS = 2000;
/** Requests the capture sends before the one it keeps (the first ones open connections, fetch the JWKS…). */
const CAPTURE_WARMUP = 2;

const slotUuid = (s: number) => `00000000-0000-4000-8000-${String(s).padStart(12, '0')}`;
const pairOf = (i: number) => ({ patient: i % PATIENTS, slot: (i + Math.floor(i / PATIENTS)) % SLOTS });
const patientId = (p: number) => `bench-patient-${p}`;
const keyOf = (i: number) => `bench-key-${i}`;
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
if (gcd(PATIENTS + 1, SLOTS) !== 1) throw new Error('booking bench: PATIENTS + 1 and SLOTS must be coprime');

/** The same values as SQL, from pgbench's per-transaction variables (script prelude below). */
const TOKEN_SQL = {
  patient: `'bench-patient-' || (:patient)::text`,
  slot: `'00000000-0000-4000-8000-' || lpad((:slot)::text, 12, '0')`,
  key: `'bench-key-' || (:i)::text`,
};
const PRELUDE = (patients: number, slots: number) => [
  '\\set n :n + 1',
  '\\set i :n * :clients + :client_id',
  `\\set patient :i % ${patients}`,
  `\\set slot (:i + :i / ${patients}) % ${slots}`,
];
/** Made-up id k of booking i (a booking id, an event id): unique per transaction, a valid UUID. */
const freshSql = (k: number) => `'ffffffff-ffff-4fff-8${String(k).padStart(3, '0')}-' || lpad(to_hex((:i)::bigint), 12, '0')`;

async function seed(pool: pg.Pool, hotGroups: number): Promise<{ hot: string[][] }> {
  await pool.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench booking branch', 'Asia/Ho_Chi_Minh')`, [BRANCH]);
  await pool.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ($1, 'Bench blood draw', 'A', 5, false)`, [SERVICE]);
  await pool.query(
    `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
     SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
     FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '2 days' + i * interval '5 minutes' AS t) x`,
    [BRANCH, SERVICE, REGULAR_CAPACITY, SLOTS]);
  const hot: string[][] = [];
  for (let g = 0; g < hotGroups; g++) {
    const r = await pool.query<{ id: string }>(
      `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
       SELECT gen_random_uuid(), $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
       FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '30 days' + ($5 * 100 + i) * interval '5 minutes' AS t) x
       RETURNING id::text`, [BRANCH, SERVICE, HOT_CAPACITY, HOT_SLOTS, g]);
    hot.push(r.rows.map((x) => x.id));
  }
  return { hot };
}

interface Capture {
  request: WireStatement[];
  afterCommit: WireStatement[];
  tokens: Record<keyof typeof TOKEN_SQL, string>;
}

/** One booking through the wire-protocol relay (after CAPTURE_WARMUP unrecorded ones), split at its commit. */
async function captureBooking(ctx: BenchContext, env: NodeJS.ProcessEnv, nextI: () => number, token: (p: number) => string): Promise<Capture> {
  const relay = await startPgCapture(ctx.databaseUrl);
  let fn: FunctionProcess | undefined;
  try {
    fn = await startFunctionProcess({
      name: 'book-slot (capture)',
      file: ctx.build.js('functions/booking-queue/book-slot/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/book-slot'),
      env: { ...env, DATABASE_URL: relay.url },
    });
    for (let k = 0; k <= CAPTURE_WARMUP; k++) {
      const i = nextI();
      const { patient, slot } = pairOf(i);
      const from = relay.statements().length;
      const res = await fetch(fn.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token(patient)}`, 'content-type': 'application/json', 'idempotency-key': keyOf(i) },
        body: JSON.stringify({ slotId: slotUuid(slot) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`the capture booking answered ${res.status}: ${text.slice(0, 300)}`);
      // The post-commit publish runs after the answer: give it time to show (it is reported, not replayed).
      await sleep(300);
      if (k < CAPTURE_WARMUP) continue;
      const window = relay.statements().slice(from);
      const { request, afterCommit } = splitAtCommit(window);
      const failed = request.find((s) => s.error);
      if (failed) throw new Error(`a captured statement failed: ${failed.error} (${failed.sql.slice(0, 200)})`);
      return { request, afterCommit, tokens: { patient: patientId(patient), slot: slotUuid(slot), key: keyOf(i) } };
    }
    throw new Error('unreachable');
  } finally {
    await fn?.stop();
    await relay.close();
  }
}

export async function bookingThroughput(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const clients = config.clients;
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-pgbench-'));
  let fn: FunctionProcess | undefined;
  try {
    // Hot slot groups, one per paced run: they fill up, so the capacity check is exercised under load.
    const { hot } = await seed(pool, config.repeats);
    const tokens = await Promise.all(Array.from({ length: PATIENTS }, (_, p) => ctx.token(patientId(p), 'patient')));
    // Booking numbers: each booking, HTTP or pgbench, has its own i (hence its own patient and slot pair).
    let next = 0;
    const nextI = () => next++;
    const booking = (i: number, slotId?: string): Request => {
      const { patient, slot } = pairOf(i);
      return {
        method: 'POST',
        path: '/',
        headers: { authorization: `Bearer ${tokens[patient]}`, 'content-type': 'application/json', 'idempotency-key': keyOf(i) },
        body: JSON.stringify({ slotId: slotId ?? slotUuid(slot) }),
      };
    };
    // The daily cap per patient is a rule of the portal, not of this load: the pool's patients book far more
    // than a real patient would, so the cap is lifted here (one place per patient and slot still holds).
    const env = ctx.functionEnv('book-slot', { BOOKING_DAILY_LIMIT: '100000', DATABASE_POOL_SIZE: String(clients) });

    // The reference: what one booking sends, as a pgbench script.
    const capture = await captureBooking(ctx, env, nextI, (p) => tokens[p]);
    const template = templateOf(capture.request, new Splitter(capture.tokens));
    const types = await parameterTypes(pool, capture.request);
    const extended = capture.request.filter((s) => s.protocol === 'extended').length;
    const mode = pgbenchMode(capture.request);
    const script: PgbenchScript = pgbenchScript(template, types, PRELUDE(PATIENTS, SLOTS), TOKEN_SQL, freshSql, [
      `generated by bench/booking.ts from the statements book-slot sent for one booking (${capture.request.length} statements)`,
      'i: this transaction\'s booking number (client, counter); patient, slot: its pair; constants: -D c<n>',
    ]);
    const scriptFile = path.join(scratch, 'book-slot.sql');
    writeFileSync(scriptFile, script.text);
    const captured = writesByTable(capture.request);
    const inserted = [...captured].filter(([, w]) => w.insert > 0).map(([t]) => t);
    ctx.log(`  captured ${capture.request.length} statements (${extended} extended protocol); pgbench -M ${mode}; rows written: ${[...captured].map(([t, w]) => `${t} ${JSON.stringify(w)}`).join('; ')}`);

    const effect = async () => ({
      ...(await tableCounts(pool, inserted)),
      'slot.booked': Number((await pool.query<{ n: string }>(`SELECT coalesce(sum(booked), 0) AS n FROM booking_queue.slot WHERE branch_id = $1 AND capacity = $2`, [BRANCH, REGULAR_CAPACITY])).rows[0].n),
    });
    const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

    fn = await startFunctionProcess({
      name: 'book-slot',
      file: ctx.build.js('functions/booking-queue/book-slot/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/book-slot'),
      env,
    });
    const url = fn.url;

    let created = 1 + CAPTURE_WARMUP;
    const tally = (r: LoadResult) => { created += r.samples.filter((s) => s.status === 201).length; return r; };

    ctx.log(`  warm-up ${WARMUP_MS / 1000} s`);
    tally(await closedLoop({ url, clients, durationMs: WARMUP_MS, request: () => booking(nextI()) }));

    const peak: Array<{ bookings: number; requests: number; total: number; other: number; errors: number; firstError?: string; p50: number; p99: number; perBooking: Record<string, number> }> = [];
    const bench: Array<{ tps: number; latency: number; tx: number; perTx: Record<string, number> }> = [];
    let perClient = config.bookingSecs * 1000;
    for (let r = 0; r < config.repeats; r++) {
      const before = await effect();
      const res = tally(await closedLoop({ url, clients, durationMs: config.bookingSecs * 1000, request: () => booking(nextI()) }));
      const by = countBy(res.samples);
      const secs = res.elapsedMs / 1000;
      const ok = res.samples.filter((s) => s.status === 201).map((s) => s.ms);
      const afterHttp = await effect();
      peak.push({
        bookings: (by[201] ?? 0) / secs,
        requests: res.samples.length / secs,
        total: res.samples.length,
        other: res.samples.length - (by[201] ?? 0),
        errors: res.errors,
        firstError: res.firstError,
        p50: percentile(ok, 50),
        p99: percentile(ok, 99),
        perBooking: perTx(delta(before, afterHttp), by[201] ?? 0),
      });
      ctx.log(`  run ${r + 1}: ${fmt(peak[r].bookings)} bookings/s (${fmt(peak[r].requests)} req/s, statuses ${JSON.stringify(by)}, errors ${res.errors})`);

      // pgbench's booking numbers: a block of its own, i = n × clients + client_id for n in (start, start + perClient].
      const start = Math.ceil(next / clients);
      next = (start + perClient + 1) * clients;
      if (next > PATIENTS * SLOTS) throw new Error(`the run needs more than ${PATIENTS * SLOTS} distinct (patient, slot) pairs; lower BENCH_BOOKING_SECS`);
      const { tps, tx, latency } = await runPgbench(ctx.pgbench, ctx.databaseUrl, { mode, clients, secs: config.bookingSecs, scriptFile, defines: { ...script.defines, n: String(start), clients: String(clients) } });
      perClient = Math.max(100, Math.ceil((3 * tx) / clients));
      bench.push({ tps, latency, tx, perTx: perTx(delta(afterHttp, await effect()), tx) });
      ctx.log(`  pgbench ${r + 1}: ${fmt(bench[r].tps)} TPS (${tx} transactions)`);
    }

    const peakRequests = median(peak.map((p) => p.requests));
    const rate = peakRequests / 2;
    const paced: Array<{ p50: number; p99: number; achieved: number; other: number; errors: number; full: number; total: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const res = tally(await openLoop({
        url, rate, durationMs: config.bookingSecs * 1000, maxInFlight: clients,
        request: () => booking(nextI(), Math.random() < config.hotShare ? hot[r][Math.floor(Math.random() * HOT_SLOTS)] : undefined),
      }));
      const by = countBy(res.samples);
      const ok = res.samples.filter((s) => s.status === 201).map((s) => s.ms);
      paced.push({
        p50: percentile(ok, 50), p99: percentile(ok, 99),
        achieved: res.samples.length / (res.elapsedMs / 1000),
        other: res.samples.length - (by[201] ?? 0) - (by[409] ?? 0),
        errors: res.errors, full: by[409] ?? 0, total: res.samples.length,
      });
      ctx.log(`  paced ${r + 1} at ${fmt(rate)} req/s: p50 ${ms(paced[r].p50)}, p99 ${ms(paced[r].p99)} (statuses ${JSON.stringify(by)})`);
    }

    // Capacity: no slot over capacity, and every slot's counter equals its live bookings (pgbench's too).
    const over = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.slot WHERE booked > capacity`)).rows[0].n);
    const mismatch = Number((await pool.query(
      `SELECT count(*) AS n FROM booking_queue.slot s
       LEFT JOIN (SELECT slot_id, count(*) AS c FROM booking_queue.booking WHERE status <> 'cancelled' GROUP BY slot_id) b ON b.slot_id = s.id
       WHERE s.branch_id = $1 AND s.booked <> coalesce(b.c, 0)`, [BRANCH])).rows[0].n);
    const rows = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.booking b JOIN booking_queue.slot s ON s.id = b.slot_id WHERE s.branch_id = $1 AND b.id::text NOT LIKE 'ffffffff-ffff-4fff-8%'`, [BRANCH])).rows[0].n);
    const hotIds = hot.flat();
    const hotFull = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.slot WHERE id = ANY($1::uuid[]) AND booked = capacity`, [hotIds])).rows[0].n);
    // The post-commit publish: how long until the outbox is empty once the load stops (bounded wait).
    const drainStart = performance.now();
    let unpublished = NaN;
    while (performance.now() - drainStart < 30_000) {
      unpublished = Number((await pool.query(`SELECT count(*) AS n FROM booking_queue.outbox_event WHERE published_at IS NULL AND source LIKE '%/book-slot'`)).rows[0].n);
      if (unpublished === 0) break;
      await sleep(100);
    }
    const drainMs = performance.now() - drainStart;

    const bookings = median(peak.map((p) => p.bookings));
    const medTps = median(bench.map((b) => b.tps));
    const other = peak.reduce((a, p) => a + p.other + p.errors, 0) + paced.reduce((a, p) => a + p.other + p.errors, 0);
    const capturedPerBooking: Record<string, number> = {
      ...Object.fromEntries(inserted.map((t) => [t, captured.get(t)!.insert])),
      'slot.booked': captured.get('booking_queue.slot')?.update ?? 0,
    };
    const same = (a: Record<string, number>, b: Record<string, number>) => Object.keys(a).every((k) => Math.abs((a[k] ?? NaN) - (b[k] ?? NaN)) < 0.005);
    const problems: string[] = [];
    if (over) problems.push(`${over} slot(s) booked over capacity`);
    if (mismatch) problems.push(`${mismatch} slot(s) whose booked counter differs from their live bookings`);
    if (rows !== created) problems.push(`${created} answers were 201 but ${rows} booking rows were made over HTTP`);
    if (other) problems.push(`${other} requests answered neither 201 nor 409 (first error: ${peak.find((p) => p.firstError)?.firstError ?? 'a non-2xx/409 status'})`);
    for (const [r, b] of bench.entries()) if (!same(capturedPerBooking, b.perTx)) problems.push(`pgbench run ${r + 1} wrote ${showPerTx(b.perTx)} per transaction; one booking writes ${showPerTx(capturedPerBooking)}`);
    for (const [r, p] of peak.entries()) if (!same(capturedPerBooking, p.perBooking)) problems.push(`HTTP run ${r + 1} wrote ${showPerTx(p.perBooking)} per booking; the captured booking wrote ${showPerTx(capturedPerBooking)}`);
    const r1 = bookings / medTps;
    const hotTotal = paced.reduce((a, p) => a + p.full, 0);
    return {
      n: 1,
      name: 'Booking throughput (book-slot over HTTP → PostgreSQL + outbox)',
      result: `${fmt(bookings)} bookings/s`,
      reference: `${fmt(medTps)} TPS (pgbench, the route's own transaction)`,
      ratio: ratio(bookings, medTps),
      target: '≥ 0.5×',
      met: r1 >= 0.5,
      notes: [
        `rows written per booking: captured ${showPerTx(capturedPerBooking)}; HTTP runs ${peak.map((p) => showPerTx(p.perBooking)).join(' / ')}; pgbench runs ${bench.map((b) => showPerTx(b.perTx)).join(' / ')}`,
        `at peak (closed loop): p50 ${ms(median(peak.map((p) => p.p50)))}, p99 ${ms(median(peak.map((p) => p.p99)))}; pgbench latency average ${ms(median(bench.map((b) => b.latency)))}`,
        `latency at half the peak (${fmt(rate)} req/s, open loop, ${(config.hotShare * 100).toFixed(0)}% to small hot slots): p50 ${ms(median(paced.map((p) => p.p50)))}, p99 ${ms(median(paced.map((p) => p.p99)))} (201 answers; achieved ${fmt(median(paced.map((p) => p.achieved)))} req/s; ${hotTotal} answered 409)`,
        `capacity: ${over} slots with booked > capacity; ${mismatch} slots with booked ≠ live bookings; ${hotFull}/${hotIds.length} hot slots filled exactly to capacity; ${rows} booking rows made over HTTP = ${created} answers 201`,
        `outbox: ${Number.isNaN(unpublished) ? '?' : unpublished} of book-slot's events unpublished when last checked, ${ms(drainMs)} after the load stopped (waits up to 30 s for 0); the publisher's statements run after the answer and are not in the script (below)`,
      ],
      inputs: [
        `${clients} concurrent clients (keep-alive HTTP/1.1), each request a patient's ES256 JWT (${PATIENTS} patients), POST / {slotId} with a unique Idempotency-Key; booking i books patient i mod ${PATIENTS} in slot (i + ⌊i/${PATIENTS}⌋) mod ${SLOTS}, so no pair repeats`,
        `${SLOTS} slots × capacity ${REGULAR_CAPACITY.toLocaleString('en-US')} (never full) for the peak runs; the paced runs send ${(config.hotShare * 100).toFixed(0)}% of requests to ${HOT_SLOTS} hot slots × capacity ${HOT_CAPACITY} (a fresh group per run)`,
        `${config.repeats} peak runs × ${config.bookingSecs} s closed loop after a ${WARMUP_MS / 1000} s warm-up, each followed by a pgbench run; then ${config.repeats} runs × ${config.bookingSecs} s open loop at 50% of the median peak req/s (max ${clients} in flight, latency from the scheduled send time)`,
        `book-slot: built JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=${clients}, KAFKA_BROKERS=Kafka mock broker (post-commit publish on)`,
        `reference: pgbench -n -M ${mode} -c ${clients} -j 2 -T ${config.bookingSecs} -f <script below> on the same database, slots and patients; the script is generated in every run from the statements book-slot sent for one booking (captured on the wire, after ${CAPTURE_WARMUP} unrecorded bookings); same pair scheme, made-up ids (booking, events) from i; constants as captured`,
      ],
      runs: [
        `bookings/s: ${runs(peak.map((p) => p.bookings))}`,
        `requests/s at peak: ${runs(peak.map((p) => p.requests))}`,
        `pgbench TPS: ${runs(bench.map((b) => b.tps))}`,
        `paced p50 ms: ${runs(paced.map((p) => p.p50))}; p99 ms: ${runs(paced.map((p) => p.p99))}`,
      ],
      appendix: replayAppendix('book-slot', capture.request, { note: 'the outbox publisher, batched under load', statements: capture.afterCommit }, script.text, script.defines),
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
    rmSync(scratch, { recursive: true, force: true });
  }
}
