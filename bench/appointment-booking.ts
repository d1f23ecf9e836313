// Row 11 — appointment booking under contention. One branch as the tests' clinic has it (two GPs, two exam
// rooms, one ECG, 07:00–12:00 and 13:00–17:00 every day): every client books an annual check-up (a GP, an exam
// room and the ECG for 30 minutes) through the built appointment-book function over HTTP, and booking number
// i asks for the i-th start of a 10-minute grid, so the clients in flight race for overlapping times on the
// one ECG: about one start in three can be had, the others are 409. Every placement locks the branch's
// five candidate resources (advisory locks) and the exclusion constraint refuses any overlap.
// Reference, in the same run and alternating with it: pgbench, with as many clients, running what the route
// sent for one booking (captured on the wire, lib/pg-wire.ts; the script generated from it in every run,
// lib/replay.ts), on the same grid. pgbench cannot run the route's JS (findSlots picks the resources, a
// refusal rolls back, a refused insert is retried behind a savepoint): the script replays the successful
// path, and where the route decides it asks one count of the holdings in force that overlap the captured
// resources at that time (after the same advisory locks, so it sees what the route would see) and sends
// ROLLBACK when there is one, as the route does when it answers 409.
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../scripts/lib/migrations';
import { addDays, branchDay, localTimeToUtc } from '../functions/shared/calendar';
import type { BenchContext, Row } from './lib/context';
import { closedLoop, countBy, type LoadResult, type Request } from './lib/load';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { runPgbench } from './lib/tools';
import { startPgCapture, splitAtCommit, type WireStatement } from './lib/pg-wire';
import { Splitter, templateOf, parameterTypes, pgbenchScript, writesByTable, tableCounts, perTx, showPerTx, pgbenchMode, replayAppendix } from './lib/replay';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const ENTRY = 'functions/appointment/book/index.ts';
const ZONE = 'Asia/Ho_Chi_Minh';
const BRANCH = 'bk-1';
const VISIT_TYPE = 'annual-checkup';
const EVERY_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [['07:00', '12:00'], ['13:00', '17:00']]]));
const RESOURCES = [
  { id: '30000000-0000-4000-8000-000000000001', kind: 'practitioner', name: 'Dr. An', capabilities: ['general-practice'] },
  { id: '30000000-0000-4000-8000-000000000002', kind: 'practitioner', name: 'Dr. Binh', capabilities: ['general-practice', 'cardiology'] },
  { id: '30000000-0000-4000-8000-000000000011', kind: 'room', name: 'Exam room 1', capabilities: ['exam'] },
  { id: '30000000-0000-4000-8000-000000000012', kind: 'room', name: 'Exam room 2', capabilities: ['exam'] },
  { id: '30000000-0000-4000-8000-000000000021', kind: 'device', name: 'ECG 1', capabilities: ['ecg'] },
];
const PATIENTS = 1000;
/** The grid: starts every 10 minutes, 07:00–11:30 (28) and 13:00–16:30 (22), 50 a day, from FIRST_DAY days ahead. */
const PER_DAY = 50;
const MORNING = 28;
const FIRST_DAY = 2;
const WARMUP_MS = 2000;
const CAPTURE_WARMUP = 2;
/** Tables a booking writes (checked per booking on both sides). */
const WRITTEN = ['appointment.appointment', 'appointment.resource_booking', 'appointment.timeline_entry', 'appointment.outbox_event', 'appointment.idempotency_record'];
/** Made-up ids of pgbench's transactions start so, to tell its rows from the route's. */
const FRESH_PREFIX = 'ffffffff-ffff-4fff-8';

/** Minutes from the first day's 07:00 to start k of the grid. */
const minutesOf = (k: number) => Math.floor(k / PER_DAY) * 1440 + (k % PER_DAY) * 10 + 80 * Math.floor((k % PER_DAY) / MORNING);
const patientId = (p: number) => `bench-appt-patient-${p}`;
const keyOf = (i: number) => `bench-appt-key-${i}`;
/** A timestamptz written in UTC with a to_char format whose colons are ';' (pgbench reads ":name" anywhere, quotes included). */
const timeSql = (ts: string, format: string) => `translate(to_char((${ts}) AT TIME ZONE 'UTC', '${format}'), ';', chr(58))`;
const TIME_FORMATS = [
  { name: 'Iso', js: (d: Date) => d.toISOString(), sql: 'YYYY-MM-DD"T"HH24;MI;SS.MS"Z"' },
  { name: 'Offset', js: (d: Date) => d.toISOString().replace('Z', '+00:00'), sql: 'YYYY-MM-DD"T"HH24;MI;SS.MS"+00;00"' },
  { name: 'SpaceMs', js: (d: Date) => d.toISOString().replace('T', ' ').replace('Z', ''), sql: 'YYYY-MM-DD HH24;MI;SS.MS' },
  { name: 'Space', js: (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19), sql: 'YYYY-MM-DD HH24;MI;SS' },
];

const overlapsSql = (ids: string, start: string, end: string) =>
  `SELECT count(*) AS taken FROM appointment.resource_booking WHERE released_at IS NULL AND resource_id = ANY(ARRAY[${ids}]::uuid[]) AND tstzrange(starts_at, ends_at, '[)') && tstzrange(${start}, ${end}, '[)')`;

/** Holdings in force that overlap another in force on the same resource (as test/support/clinic.ts counts them), by side. */
async function doubleBookings(pool: pg.Pool): Promise<{ route: number; pgbench: number; across: number }> {
  const { rows: [r] } = await pool.query<{ route: number; pgbench: number; across: number }>(
    `SELECT count(*) FILTER (WHERE NOT pa AND NOT pb)::int AS route, count(*) FILTER (WHERE pa AND pb)::int AS pgbench, count(*) FILTER (WHERE pa <> pb)::int AS across
     FROM (SELECT a.appointment_id::text LIKE '${FRESH_PREFIX}%' AS pa, b.appointment_id::text LIKE '${FRESH_PREFIX}%' AS pb
           FROM appointment.resource_booking a JOIN appointment.resource_booking b
             ON a.resource_id = b.resource_id AND a.id < b.id AND a.released_at IS NULL AND b.released_at IS NULL
            AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')) x`);
  return r;
}

export async function appointmentBooking(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const clients = config.clients;
  const secs = config.apptBookingSecs;
  const url = await ctx.createDatabase('apptbook');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-appt-'));
  let fn: FunctionProcess | undefined;
  try {
    await pool.query(
      `INSERT INTO appointment.resource (id, branch_id, kind, name, capabilities, timezone, hours, updated_at)
       SELECT x.id, $2, x.kind, x.name, x.capabilities, $3, $4::jsonb, now()
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, kind appointment.resource_kind, name text, capabilities text[])`,
      [JSON.stringify(RESOURCES), BRANCH, ZONE, JSON.stringify(EVERY_DAY)]);
    await pool.query(
      `INSERT INTO appointment.visit_type (id, name, duration_minutes, requirements) VALUES ($1, 'Annual check-up', 30, $2::jsonb)`,
      [VISIT_TYPE, JSON.stringify([{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }, { kind: 'device', capability: 'ecg' }])]);
    const base = localTimeToUtc(addDays(branchDay(new Date(), ZONE), FIRST_DAY), '07:00', ZONE).getTime();
    const startOf = (i: number) => new Date(base + minutesOf(i) * 60_000);
    const tokens = await Promise.all(Array.from({ length: PATIENTS }, (_, p) => ctx.token(patientId(p), 'patient')));
    let next = 0;
    const nextI = () => next++;
    const booking = (i: number): Request => ({
      method: 'POST',
      path: '/',
      headers: { authorization: `Bearer ${tokens[i % PATIENTS]}`, 'content-type': 'application/json', 'idempotency-key': keyOf(i) },
      body: JSON.stringify({ visitTypeId: VISIT_TYPE, branchId: BRANCH, start: startOf(i).toISOString() }),
    });
    const env = ctx.functionEnv('appointment-book', { DATABASE_POOL_SIZE: String(clients), DATABASE_URL: url });
    const start = { name: 'appointment-book', file: ctx.build.js(ENTRY), cwd: path.join(ROOT, path.dirname(ENTRY)) };

    // One booking through the relay (after unrecorded ones), split at its commit.
    let capture: { request: WireStatement[]; afterCommit: WireStatement[]; i: number; resourceIds: string[] } | undefined;
    // Rows a booking writes, counted around the capture's bookings (the outbox and idempotency rows go in one
    // WITH statement whose tag names only one table).
    const beforeCapture = await tableCounts(pool, WRITTEN);
    const relay = await startPgCapture(url);
    try {
      fn = await startFunctionProcess({ ...start, name: `${start.name} (capture)`, env: { ...env, DATABASE_URL: relay.url } });
      for (let k = 0; k <= CAPTURE_WARMUP; k++) {
        // Every third start: the capture's bookings never overlap, each is a 201.
        const i = k * 3;
        const from = relay.statements().length;
        const req = booking(i);
        const res = await fetch(fn.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(30_000) });
        const answer = await res.json() as { resourceIds?: string[] };
        if (res.status !== 201) throw new Error(`the capture booking answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
        await sleep(300);
        if (k < CAPTURE_WARMUP) continue;
        const { request, afterCommit } = splitAtCommit(relay.statements().slice(from));
        const failed = request.find((s) => s.error);
        if (failed) throw new Error(`a captured statement failed: ${failed.error} (${failed.sql.slice(0, 200)})`);
        capture = { request, afterCommit, i, resourceIds: answer.resourceIds ?? [] };
      }
    } finally {
      await fn?.stop();
      fn = undefined;
      await relay.close();
    }
    if (!capture) throw new Error('no booking was captured');
    // Booking numbers go on from a multiple of 3 past the capture's.
    next = capture.i + 3;

    // The pgbench script: the captured statements, the booking's values from per-transaction variables.
    const s0 = startOf(capture.i);
    const e0 = new Date(s0.getTime() + 30 * 60_000);
    const startSql = `to_timestamp(${base / 1000}::bigint + (:m)::bigint * 60)`;
    const endSql = `to_timestamp(${base / 1000}::bigint + (:m + 30)::bigint * 60)`;
    const tokenValues: Record<string, string> = { patient: patientId(capture.i % PATIENTS), key: keyOf(capture.i) };
    const tokenSql: Record<string, string> = { patient: `'bench-appt-patient-' || (:patient)::text`, key: `'bench-appt-key-' || (:i)::text` };
    // The start and end as the code wrote them: ISO in JSON and answers, "YYYY-MM-DD HH:MM:SS[.mmm]" where the driver binds a Date.
    for (const [name, at, sql] of [['start', s0, startSql], ['end', e0, endSql]] as const) {
      for (const f of TIME_FORMATS) {
        tokenValues[`${name}${f.name}`] = f.js(at);
        tokenSql[`${name}${f.name}`] = timeSql(sql, f.sql);
      }
    }
    RESOURCES.forEach((r, k) => { tokenValues[`r${k}`] = r.id; tokenSql[`r${k}`] = `'${r.id}'`; });
    const template = templateOf(capture.request, new Splitter(tokenValues));
    const types = await parameterTypes(pool, capture.request);
    const extended = capture.request.filter((s) => s.protocol === 'extended').length;
    const mode = pgbenchMode(capture.request);
    const prelude = [
      '\\set n :n + 1',
      '\\set i :n * :clients + :client_id',
      `\\set patient :i % ${PATIENTS}`,
      `\\set m (:i / ${PER_DAY}) * 1440 + (:i % ${PER_DAY}) * 10 + 80 * ((:i % ${PER_DAY}) / ${MORNING})`,
    ];
    const freshSql = (k: number) => `'${FRESH_PREFIX}${String(k).padStart(3, '0')}-' || lpad(to_hex((:i)::bigint), 12, '0')`;
    const script = pgbenchScript(template, types, prelude, tokenSql, freshSql, [
      `generated by bench/appointment-booking.ts from the statements appointment-book sent for one booking (${capture.request.length} statements)`,
      'i: this transaction\'s booking number (client, counter); m: its start, minutes from the first day\'s 07:00; constants: -D c<n>',
      'where the route decides (findSlots, 409), one count of the holdings in force that overlap the captured resources; ROLLBACK when there is one',
    ]);
    // Where the decision goes: the route's savepoint before it inserts the holdings.
    const decideAt = capture.request.findIndex((s) => /SAVEPOINT\s+take_resources/i.test(s.sql) && !/RELEASE|ROLLBACK/i.test(s.sql));
    if (decideAt < 0) throw new Error('the capture has no SAVEPOINT take_resources: the booking path changed; update bench/appointment-booking.ts');
    const taken = capture.resourceIds.length ? capture.resourceIds : RESOURCES.map((r) => r.id);
    const lines = script.text.trimEnd().split('\n');
    const first = lines.length - capture.request.length;
    const scriptText = [
      ...lines.slice(0, first + decideAt),
      `${overlapsSql(taken.map((id) => `'${id}'`).join(', '), startSql, endSql)} \\gset`,
      '\\if :taken',
      'ROLLBACK;',
      '\\else',
      ...lines.slice(first + decideAt),
      '\\endif',
      '',
    ].join('\n');
    const scriptFile = path.join(scratch, 'appointment-book.sql');
    writeFileSync(scriptFile, scriptText);
    const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));
    const capturedPerBooking = perTx(delta(beforeCapture, await tableCounts(pool, WRITTEN)), CAPTURE_WARMUP + 1);
    const tagged = [...writesByTable(capture.request)].map(([t, w]) => `${t} ${JSON.stringify(w)}`).join('; ');
    ctx.log(`  captured ${capture.request.length} statements (${extended} extended protocol); pgbench -M ${mode}; rows per booking: ${showPerTx(capturedPerBooking)} (tags: ${tagged})`);
    const effect = () => tableCounts(pool, WRITTEN);

    fn = await startFunctionProcess({ ...start, env });
    ctx.log(`  warm-up ${WARMUP_MS / 1000} s`);
    await closedLoop({ url: fn.url, clients, durationMs: WARMUP_MS, request: () => booking(nextI()) });

    const http: Array<{ bookings: number; conflicts: number; unavailable: number; other: number; errors: number; firstError?: string; p50: number; p99: number; perBooking: Record<string, number>; share: number }> = [];
    const bench: Array<{ bookings: number; conflicts: number; tps: number; tx: number; latency: number; perBooking: Record<string, number>; failed: number }> = [];
    // Transactions a pgbench client may run in a run, at most (200/s each: far above what one booking at a time on one ECG allows); then 3× what it did.
    let perClient = secs * 200;
    for (let r = 0; r < config.repeats; r++) {
      const before = await effect();
      const res: LoadResult = await closedLoop({ url: fn.url, clients, durationMs: secs * 1000, request: () => booking(nextI()) });
      const by = countBy(res.samples);
      const t = res.elapsedMs / 1000;
      const ok = by[201] ?? 0;
      const afterHttp = await effect();
      http.push({
        bookings: ok / t, conflicts: (by[409] ?? 0) / t, unavailable: by[503] ?? 0,
        other: res.samples.length - ok - (by[409] ?? 0) - (by[503] ?? 0), errors: res.errors, firstError: res.firstError,
        p50: percentile(res.samples.map((x) => x.ms), 50), p99: percentile(res.samples.map((x) => x.ms), 99),
        perBooking: perTx(delta(before, afterHttp), ok), share: ok / Math.max(1, res.samples.length),
      });
      ctx.log(`  run ${r + 1}: ${fmt(http[r].bookings)} bookings/s, ${fmt(http[r].conflicts)} conflicts/s (statuses ${JSON.stringify(by)}, errors ${res.errors})`);

      // pgbench's booking numbers: a block of its own past the route's, i = n × clients + client_id, starting on a whole day.
      const startN = Math.ceil((next + PER_DAY) / clients);
      next = (startN + perClient + 1) * clients + PER_DAY;
      const { tps, tx, latency, failed } = await runPgbench(ctx.pgbench, url, { mode, clients, secs, scriptFile, defines: { ...script.defines, n: String(startN), clients: String(clients) } });
      perClient = Math.max(100, Math.ceil((3 * tx) / clients));
      const d = delta(afterHttp, await effect());
      const made = d['appointment.appointment'] ?? NaN;
      const wall = tx / tps;
      bench.push({ bookings: made / wall, conflicts: (tx - made) / wall, tps, tx, latency, perBooking: perTx(d, made), failed });
      ctx.log(`  pgbench ${r + 1}: ${fmt(bench[r].bookings)} bookings/s, ${fmt(bench[r].conflicts)} rolled back/s (${tx} transactions, ${made} bookings)`);
    }

    const doubles = await doubleBookings(pool);
    const bookings = median(http.map((x) => x.bookings));
    const conflicts = median(http.map((x) => x.conflicts));
    const refBookings = median(bench.map((x) => x.bookings));
    const refConflicts = median(bench.map((x) => x.conflicts));
    const unavailable = http.reduce((a, x) => a + x.unavailable, 0);
    const other = http.reduce((a, x) => a + x.other + x.errors, 0);
    const same = (a: Record<string, number>, b: Record<string, number>) => Object.keys(a).every((k) => Math.abs((a[k] ?? NaN) - (b[k] ?? NaN)) < 0.005);
    const problems: string[] = [];
    if (unavailable) problems.push(`${unavailable} requests answered 503`);
    if (other) problems.push(`${other} requests answered neither 201, 409 nor 503 (first error: ${http.find((x) => x.firstError)?.firstError ?? 'another status'})`);
    if (doubles.route + doubles.pgbench + doubles.across) problems.push(`double bookings: ${JSON.stringify(doubles)}`);
    for (const [r, b] of bench.entries()) if (b.failed) problems.push(`pgbench run ${r + 1}: ${b.failed} failed transactions`);
    for (const [r, b] of bench.entries()) if (!same(capturedPerBooking, b.perBooking)) problems.push(`pgbench run ${r + 1} wrote ${showPerTx(b.perBooking)} per booking; one booking writes ${showPerTx(capturedPerBooking)}`);
    for (const [r, p] of http.entries()) if (!same(capturedPerBooking, p.perBooking)) problems.push(`HTTP run ${r + 1} wrote ${showPerTx(p.perBooking)} per booking; the captured booking wrote ${showPerTx(capturedPerBooking)}`);
    return {
      n: 11,
      name: `Appointment booking under contention (${clients} clients, annual check-ups racing for one ECG)`,
      result: `${fmt(bookings)} bookings/s, ${fmt(conflicts)} conflicts/s, ${unavailable} × 503`,
      reference: `${fmt(refBookings)} bookings/s, ${fmt(refConflicts)} rolled back/s (pgbench, the route's statements)`,
      ratio: `${ratio(bookings, refBookings)} bookings, ${ratio(bookings + conflicts, refBookings + refConflicts)} answers`,
      target: '≥ 0.5× bookings; 0 × 503; 0 double bookings',
      met: bookings / refBookings >= 0.5 && unavailable === 0 && problems.length === 0,
      notes: [
        `double bookings afterwards (holdings in force overlapping on one resource): route ${doubles.route}, pgbench ${doubles.pgbench}, between the two ${doubles.across}`,
        `answers: ${runs(http.map((x) => 100 * x.share), (v) => `${fmt(v)}%`)} of requests booked per run (one start in three can be had); route latency p50 ${ms(median(http.map((x) => x.p50)))}, p99 ${ms(median(http.map((x) => x.p99)))} (201 and 409); pgbench latency average ${ms(median(bench.map((x) => x.latency)))}`,
        `rows written per booking: captured ${showPerTx(capturedPerBooking)}; HTTP runs ${http.map((x) => showPerTx(x.perBooking)).join(' / ')}; pgbench runs ${bench.map((x) => showPerTx(x.perBooking)).join(' / ')}`,
        'pgbench replays the successful path: the route\'s JS (findSlots choosing a GP and a room, the 409 refusal, the savepoint retry after a refused insert) cannot run in pgbench; its decision is one count of the overlapping holdings in force on the captured resources after the same advisory locks (here exactly the route\'s decision: every visit takes the one ECG, so when the ECG is free Dr. An and Exam room 1 are too), and a refusal is a ROLLBACK. Under the advisory locks the route\'s savepoint retry should not fire (the loser reads the winner\'s holding before it inserts); this row does not count how often it did',
        `the post-commit publish (outbox to the Kafka mock broker) runs after the answer and is not in the script`,
      ],
      inputs: [
        `branch ${BRANCH}: 2 GPs, 2 exam rooms, 1 ECG, 07:00–12:00 and 13:00–17:00 every day (${ZONE}); visit type ${VISIT_TYPE} (30 min: a GP, an exam room, an ECG)`,
        `${clients} concurrent clients (keep-alive HTTP/1.1), a patient's ES256 JWT each request (${PATIENTS} patients), POST / {visitTypeId, branchId, start} with a unique Idempotency-Key; booking i asks for start i of a 10-minute grid (07:00–11:30, 13:00–16:30, 50 a day from ${FIRST_DAY} days ahead), so the clients in flight race for overlapping times`,
        `${config.repeats} runs × ${secs} s closed loop after a ${WARMUP_MS / 1000} s warm-up, each followed by a pgbench run on the next block of the grid; appointment-book: built JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=${clients}`,
        `reference: pgbench -n -M ${mode} -c ${clients} -j 2 -T ${secs} -f <script below>, generated in every run from the statements appointment-book sent for one booking (captured on the wire after ${CAPTURE_WARMUP} unrecorded bookings); bookings/s from the appointment rows it made, rolled back/s from the rest of its transactions`,
      ],
      runs: [
        `route bookings/s: ${runs(http.map((x) => x.bookings))}; conflicts/s: ${runs(http.map((x) => x.conflicts))}; 503s: ${runs(http.map((x) => x.unavailable))}`,
        `pgbench bookings/s: ${runs(bench.map((x) => x.bookings))}; rolled back/s: ${runs(bench.map((x) => x.conflicts))}; TPS: ${runs(bench.map((x) => x.tps))}`,
      ],
      appendix: replayAppendix('appointment-book', capture.request, { note: 'the outbox publisher', statements: capture.afterCommit }, scriptText, script.defines),
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
    rmSync(scratch, { recursive: true, force: true });
  }
}
