// Row 10 — appointment availability at volume. A database of its own holds 50 branches' schedules (each
// branch 14 resources: doctors, nurses, exam and sampling rooms, ECGs, an ultrasound; weekly hours with a
// lunch break, leave days and extra hours as exceptions, and 50–70% of the working time booked from two weeks
// ago to 90 days ahead), seeded with SQL generate_series. The appointment-availability function (built,
// faas-js-runtime CLI) is asked for an annual check-up (a GP, an exam room and an ECG at once) over the next
// 90 days at random branches. Reference, as row 5: the very statements the function sends for that branch
// (captured on the wire, lib/pg-wire.ts, one request per branch) executed with pg, alternating with the
// route calls. EXPLAIN (ANALYZE, BUFFERS) of each captured statement shows the index it takes; the busy-time
// read is expected on the btree (resource_id, starts_at), and the same rows asked through the exclusion
// constraint's GiST index (a range overlap) are shown beside it, the way the route asked first. The scheduling maths
// (findSlots) is timed apart, in this process, on the same calendars read with pg.
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../scripts/lib/migrations';
import { addDays, branchDay, dayBounds } from '../functions/shared/calendar';
import { findSlots, matches, subtract, workingIntervals, type Interval, type Requirement, type ResourceCalendar, type WeeklyHours } from '../functions/appointment/schedule';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, type FunctionProcess } from './lib/procs';
import { startPgCapture, describeStatements, type WireStatement } from './lib/pg-wire';
import { indexScans } from './lib/plan';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const ENTRY = 'functions/appointment/availability/index.ts';
const INDEX = 'resource_booking_resource_id_starts_at_idx';
const GIST = 'resource_booking_no_overlap';
const ZONE = 'Asia/Ho_Chi_Minh';
const VISIT_TYPE = 'annual-checkup';
const NEEDS: Requirement[] = [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }, { kind: 'device', capability: 'ecg' }];
const DAYS_QUERIED = 90;
/** The route's maximum: the whole 90 days are worked out (the default, 200, would stop after a few days). */
const LIMIT = 2000;
/** Bookings from this many days ago (history the busy read must not wade through). */
const HISTORY_DAYS = 14;
/** Booked share of a resource's working time: each 30-minute block is held with a probability in [P_MIN, P_MAX] (per resource), for 20 or 30 minutes. */
const P_MIN = 0.62;
const P_MAX = 0.85;
/** The route does its scheduling maths in JS, which its SQL alone does not: judged against SQL + findSlots, what the function adds on top. */
const TARGET = 1.3;

const branchId = (b: number) => `ap-${String(b).padStart(2, '0')}`;
const weekdays = (days: string[], periods: [string, string][]): WeeklyHours => Object.fromEntries(days.map((d) => [d, periods]));
const MON_FRI = ['1', '2', '3', '4', '5'];
const LUNCH: [string, string][] = [['07:30', '12:00'], ['13:00', '17:00']];

/** One branch's resources: what a mid-sized clinic of the chain has. Hours are branch-local, breaks are the gaps. */
const TEMPLATES: Array<{ kind: 'practitioner' | 'room' | 'device'; name: string; capabilities: string[]; hours: WeeklyHours }> = [
  { kind: 'practitioner', name: 'Dr. 1', capabilities: ['general-practice'], hours: { ...weekdays(MON_FRI, LUNCH), 6: [['07:30', '12:00']] } },
  { kind: 'practitioner', name: 'Dr. 2', capabilities: ['general-practice', 'cardiology'], hours: { ...weekdays(MON_FRI, LUNCH), 6: [['07:30', '12:00']] } },
  { kind: 'practitioner', name: 'Dr. 3', capabilities: ['general-practice'], hours: weekdays(MON_FRI, [['07:30', '12:00'], ['13:30', '17:30']]) },
  { kind: 'practitioner', name: 'Dr. 4', capabilities: ['general-practice'], hours: weekdays(['2', '3', '4', '5', '6'], [['08:00', '12:00'], ['13:00', '16:00']]) },
  { kind: 'practitioner', name: 'Nurse 1', capabilities: ['phlebotomy', 'nursing'], hours: { ...weekdays(MON_FRI, [['06:30', '11:30'], ['12:30', '16:30']]), 6: [['06:30', '11:30']], 7: [['07:00', '10:00']] } },
  { kind: 'practitioner', name: 'Nurse 2', capabilities: ['phlebotomy', 'nursing'], hours: { ...weekdays(MON_FRI, [['06:30', '11:30'], ['12:30', '16:30']]), 6: [['06:30', '11:30']] } },
  ...[1, 2, 3, 4].map((n) => ({ kind: 'room' as const, name: `Exam room ${n}`, capabilities: ['exam'], hours: { ...weekdays(MON_FRI, [['07:00', '12:00'], ['13:00', '17:30']]), 6: [['07:00', '12:00']] as [string, string][] } })),
  { kind: 'room', name: 'Sampling room', capabilities: ['sampling'], hours: { ...weekdays(MON_FRI, [['06:30', '11:30'], ['12:30', '16:30']]), 6: [['06:30', '11:30']], 7: [['07:00', '10:00']] } },
  { kind: 'device', name: 'ECG 1', capabilities: ['ecg'], hours: { ...weekdays(MON_FRI, LUNCH), 6: [['07:30', '12:00']] } },
  { kind: 'device', name: 'ECG 2', capabilities: ['ecg'], hours: weekdays(['1', '3', '5'], LUNCH) },
  { kind: 'device', name: 'Ultrasound', capabilities: ['ultrasound'], hours: weekdays(MON_FRI, LUNCH) },
];

const send = (c: pg.PoolClient, s: WireStatement) => (s.protocol === 'extended' ? c.query({ text: s.sql, values: s.values }) : c.query(s.sql));
const explainable = (s: WireStatement) => /^\s*(SELECT|WITH)\b/i.test(s.sql) && !/pg_advisory/i.test(s.sql);

async function seed(c: pg.PoolClient, branches: number, days: number): Promise<void> {
  await c.query(`SET synchronous_commit = off`);
  const resources = Array.from({ length: branches }, (_, b) => TEMPLATES.map((t, k) => ({
    id: `20000000-0000-4000-8000-${String(b * 100 + k).padStart(12, '0')}`, branch_id: branchId(b), kind: t.kind, name: t.name, capabilities: t.capabilities, hours: t.hours,
  }))).flat();
  await c.query(
    `INSERT INTO appointment.resource (id, branch_id, kind, name, capabilities, timezone, hours, updated_at)
     SELECT x.id, x.branch_id, x.kind, x.name, x.capabilities, $2, x.hours, now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, branch_id text, kind appointment.resource_kind, name text, capabilities text[], hours jsonb)`,
    [JSON.stringify(resources), ZONE]);
  await c.query(
    `INSERT INTO appointment.visit_type (id, name, duration_minutes, requirements) VALUES
       ('annual-checkup', 'Annual check-up', 30, $1::jsonb),
       ('gp-consult', 'GP consultation', 15, '[{"kind":"practitioner","capability":"general-practice"},{"kind":"room","capability":"exam"}]'),
       ('blood-draw', 'Blood draw', 10, '[{"kind":"practitioner","capability":"phlebotomy"},{"kind":"room","capability":"sampling"}]')`,
    [JSON.stringify(NEEDS)]);
  // Days (branch-local dates, as offsets from today) on which a resource is away all day: leave about one day
  // in 23 per resource, and a public holiday 40 days ahead for a third of the branches.
  const away = `((abs(hashtext(r.id::text)) + d) % 23 = 0 OR (d = 40 AND substr(r.branch_id, 4)::int % 3 = 0))`;
  const today = `(now() AT TIME ZONE '${ZONE}')::date`;
  await c.query(
    `INSERT INTO appointment.schedule_exception (id, resource_id, kind, starts_at, ends_at, reason)
     SELECT gen_random_uuid(), r.id, 'closed', (${today} + d)::timestamp AT TIME ZONE '${ZONE}', (${today} + d + 1)::timestamp AT TIME ZONE '${ZONE}',
            CASE WHEN d = 40 THEN 'public holiday' ELSE 'leave' END
     FROM appointment.resource r, generate_series(-$1::int, $2::int) d WHERE ${away}`, [HISTORY_DAYS, days + 2]);
  // Extra hours: doctors open a Sunday morning every other week; ECG 1 stays an hour longer on Thursdays.
  await c.query(
    `INSERT INTO appointment.schedule_exception (id, resource_id, kind, starts_at, ends_at, reason)
     SELECT gen_random_uuid(), r.id, 'open', ((${today} + d)::timestamp + x.o) AT TIME ZONE '${ZONE}', ((${today} + d)::timestamp + x.c) AT TIME ZONE '${ZONE}', 'extra hours'
     FROM appointment.resource r, generate_series(-$1::int, $2::int) d,
          LATERAL (SELECT CASE WHEN r.kind = 'practitioner' THEN interval '8 hours' ELSE interval '17 hours' END AS o,
                          CASE WHEN r.kind = 'practitioner' THEN interval '11 hours' ELSE interval '18 hours' END AS c) x
     WHERE (r.name LIKE 'Dr.%' AND extract(isodow FROM ${today} + d) = 7 AND ((${today} + d) - date '2026-01-04') % 14 = 0)
        OR (r.name = 'ECG 1' AND extract(isodow FROM ${today} + d) = 4)`, [HISTORY_DAYS, days + 2]);
  // Holdings: every working period split into 30-minute blocks, each held (20 or 30 minutes from its start) with
  // the resource's own probability; none on days away; one in 12 released (cancelled: blocks nothing). One
  // appointment row per holding (the availability read does not join appointment).
  await c.query(
    `CREATE TEMP TABLE seed_holding AS
     SELECT gen_random_uuid() AS appointment_id, r.id AS resource_id, r.branch_id, t AS starts_at,
            t + CASE WHEN h % 4 = 0 THEN interval '20 minutes' ELSE interval '30 minutes' END AS ends_at,
            CASE WHEN h % 12 = 5 THEN now() END AS released_at
     FROM appointment.resource r, generate_series(-$1::int, $2::int) d,
          LATERAL jsonb_array_elements(r.hours -> extract(isodow FROM ${today} + d)::text) p,
          LATERAL generate_series(((${today} + d) + (p->>0)::time) AT TIME ZONE '${ZONE}', ((${today} + d) + (p->>1)::time) AT TIME ZONE '${ZONE}' - interval '30 minutes', interval '30 minutes') t,
          LATERAL (SELECT abs(hashtext(r.id::text || t::text)) AS h) x
     WHERE NOT ${away}
       AND (h % 1000) < 1000 * ($3::float8 + ($4::float8 - $3::float8) * ((abs(hashtext(r.id::text)) % 100) / 99.0))`, [HISTORY_DAYS, days + 2, P_MIN, P_MAX]);
  await c.query(
    `INSERT INTO appointment.appointment (id, patient_id, branch_id, visit_type_id, starts_at, ends_at, status, updated_at)
     SELECT appointment_id, 'p-' || (abs(hashtext(appointment_id::text)) % 500000), branch_id, 'gp-consult', starts_at, ends_at,
            (CASE WHEN released_at IS NULL THEN CASE WHEN starts_at < now() THEN 'fulfilled' ELSE 'booked' END ELSE 'cancelled' END)::appointment.appointment_status, now()
     FROM seed_holding`);
  await c.query(
    `INSERT INTO appointment.resource_booking (appointment_id, resource_id, starts_at, ends_at, released_at)
     SELECT appointment_id, resource_id, starts_at, ends_at, released_at FROM seed_holding ORDER BY resource_id, starts_at`);
  await c.query(`DROP TABLE seed_holding`);
  await c.query(`ANALYZE`);
}

/** The calendars the route builds, read with pg (resources of the branch that can serve, their exceptions, busy time in force). */
async function calendarsOf(c: pg.PoolClient, branch: string, from: Date, to: Date): Promise<ResourceCalendar[]> {
  const { rows } = await c.query<{ id: string; kind: ResourceCalendar['kind']; capabilities: string[]; timezone: string; hours: WeeklyHours }>(
    `SELECT id::text, kind::text, capabilities, timezone, hours FROM appointment.resource WHERE branch_id = $1 AND active AND kind::text = ANY($2) ORDER BY name`,
    [branch, [...new Set(NEEDS.map((n) => n.kind))]]);
  const resources = rows.filter((r) => NEEDS.some((n) => matches(n, r)));
  const ids = resources.map((r) => r.id);
  const exceptions = (await c.query<{ resource_id: string; kind: 'open' | 'closed'; s: Date; e: Date }>(
    `SELECT resource_id::text, kind::text, starts_at AS s, ends_at AS e FROM appointment.schedule_exception WHERE resource_id = ANY($1::uuid[]) AND starts_at < $3 AND ends_at > $2`, [ids, from, to])).rows;
  const busy = (await c.query<{ resource_id: string; s: Date; e: Date }>(
    `SELECT resource_id::text, starts_at AS s, ends_at AS e FROM appointment.resource_booking
     WHERE released_at IS NULL AND resource_id = ANY($1::uuid[]) AND starts_at < $3 AND starts_at > $2::timestamptz - interval '12 hours' AND ends_at > $2`, [ids, from, to])).rows;
  return resources.map((r) => ({
    ...r,
    exceptions: exceptions.filter((e) => e.resource_id === r.id).map((e) => ({ kind: e.kind, start: e.s.getTime(), end: e.e.getTime() })),
    busy: busy.filter((b) => b.resource_id === r.id).map((b) => ({ start: b.s.getTime(), end: b.e.getTime() })),
  }));
}

export async function appointmentAvailability(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const branches = config.apptBranches;
  const url = await ctx.createDatabase('apptavail');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let fn: FunctionProcess | undefined;
  let conn: pg.PoolClient | undefined;
  try {
    const t0 = performance.now();
    const c = await pool.connect();
    try {
      await seed(c, branches, DAYS_QUERIED);
    } finally {
      c.release();
    }
    const seedMs = performance.now() - t0;
    const { rows: [counts] } = await pool.query<{ resources: string; exceptions: string; holdings: string; in_force: string }>(
      `SELECT (SELECT count(*) FROM appointment.resource) AS resources, (SELECT count(*) FROM appointment.schedule_exception) AS exceptions,
              (SELECT count(*) FROM appointment.resource_booking) AS holdings, (SELECT count(*) FROM appointment.resource_booking WHERE released_at IS NULL) AS in_force`);
    ctx.log(`  seeded ${counts.resources} resources, ${counts.exceptions} exceptions, ${counts.holdings} holdings (${counts.in_force} in force) in ${fmt(seedMs / 1000)} s`);

    const token = await ctx.token('bench-patient-avail', 'patient');
    const first = addDays(branchDay(new Date(), ZONE), 1);
    const last = addDays(first, DAYS_QUERIED - 1);
    const queryOf = (b: number) => new URLSearchParams({ visitTypeId: VISIT_TYPE, branchId: branchId(b), from: first, to: last, limit: String(LIMIT) }).toString();
    const env = ctx.functionEnv('appointment-availability', { DATABASE_URL: url });
    const start = { name: 'appointment-availability', file: ctx.build.js(ENTRY), cwd: path.join(ROOT, path.dirname(ENTRY)) };
    const get = async (base: string, b: number) => {
      const t = performance.now();
      const res = await fetch(`${base}/?${queryOf(b)}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
      const body = await res.json() as { slots?: unknown[] };
      if (res.status !== 200) throw new Error(`appointment-availability answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t, slots: body.slots?.length ?? 0 };
    };

    // The statements of one request for every branch (two unrecorded requests first: connections, JWKS).
    const captured: WireStatement[][] = [];
    const relay = await startPgCapture(url);
    try {
      fn = await startFunctionProcess({ ...start, name: `${start.name} (capture)`, env: { ...env, DATABASE_URL: relay.url } });
      for (let k = 0; k < 2; k++) await get(fn.url, 0);
      for (let b = 0; b < branches; b++) {
        const from = relay.statements().length;
        await get(fn.url, b);
        const window = relay.statements().slice(from);
        const failed = window.find((s) => s.error);
        if (failed) throw new Error(`a captured statement failed: ${failed.error} (${failed.sql.slice(0, 200)})`);
        if (!window.length) throw new Error('appointment-availability sent no statement for a request');
        captured.push(window);
      }
    } finally {
      await fn?.stop();
      fn = undefined;
      await relay.close();
    }
    const shapes = new Set(captured.map((w) => w.map((s) => s.sql).join('\n')));
    const statements = captured[0];
    const busyAt = statements.findIndex((s) => /resource_booking/.test(s.sql) && /starts_at </.test(s.sql));

    conn = await pool.connect();
    // Each statement's plan (branch 0), and which index it takes.
    const plans: Array<{ i: number; sql: string; plan: string; scans: string[] }> = [];
    for (const [i, s] of statements.entries()) {
      if (!explainable(s)) continue;
      const plan = (await conn.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, values: s.values })).rows.map((r) => r['QUERY PLAN']).join('\n');
      const seq = [...plan.matchAll(/Seq Scan on (\S+)/g)].map((m) => `Seq Scan on ${m[1]}`);
      plans.push({ i, sql: s.sql, plan, scans: [...indexScans(plan).map((x) => `${x.kind} on ${x.index}`), ...seq] });
    }
    const busyPlan = plans.find((p) => p.i === busyAt);
    const indexUsed = !!busyPlan && busyPlan.plan.includes(INDEX);
    // For comparison only (not what the route sends): the same rows asked as a range overlap, which the
    // exclusion constraint's GiST index answers (the route's first form). The route's parameters are $1 the
    // resources, $2 the window's end, $3 its start less 12 hours, $4 its start.
    const busyValues = statements[busyAt]?.values ?? [];
    const plainPlan = busyAt < 0 ? '' : (await conn.query<{ 'QUERY PLAN': string }>({
      text: `EXPLAIN (ANALYZE, BUFFERS) SELECT resource_id::text, starts_at, ends_at FROM appointment.resource_booking
             WHERE released_at IS NULL AND resource_id = ANY($1::uuid[]) AND tstzrange(starts_at, ends_at, '[)') && tstzrange($3::timestamptz, $2::timestamptz, '[)')`,
      values: [busyValues[0], busyValues[1], busyValues[3]],
    })).rows.map((r) => r['QUERY PLAN']).join('\n');
    const executionMs = (plan: string) => Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
    const buffers = (plan: string) => /Buffers: (shared [^\n]*)/.exec(plan)?.[1] ?? '?';

    // The same calendars read with pg, for timing findSlots alone (and checking it finds what the route answers).
    const from = dayBounds(first, ZONE).start;
    const to = dayBounds(last, ZONE).end;
    const cals: ResourceCalendar[][] = [];
    for (let b = 0; b < branches; b++) cals.push(await calendarsOf(conn, branchId(b), from, to));
    // Booked share of each queried resource's working time over the window (holdings in force within its hours).
    const total = (xs: Interval[]) => xs.reduce((a, x) => a + x.end - x.start, 0);
    const bookedShare = cals.flat().map((cal) => {
      const working = workingIntervals(cal, from.getTime(), to.getTime());
      return 1 - total(subtract(working, cal.busy)) / total(working);
    });
    const slotsOf = (b: number) => findSlots({ requirements: NEEDS, resources: cals[b], durationMinutes: 30, from: from.getTime(), to: to.getTime(), limit: LIMIT });

    fn = await startFunctionProcess({ ...start, env });
    const base = fn.url;
    const query = async (b: number) => {
      const t = performance.now();
      for (const s of captured[b]) await send(conn!, s);
      return performance.now() - t;
    };
    const maths = (b: number) => {
      const t = performance.now();
      const n = slotsOf(b).length;
      return { ms: performance.now() - t, n };
    };
    // Warm-up (connections, JIT, the buffer cache), and the check: the route lists what findSlots finds on the calendars read with pg.
    const mismatch: string[] = [];
    const answered: number[] = [];
    for (let b = 0; b < branches; b++) {
      const r = await get(base, b);
      await query(b);
      const m = maths(b);
      answered.push(r.slots);
      if (r.slots !== m.n) mismatch.push(`${branchId(b)}: route ${r.slots}, findSlots ${m.n}`);
    }

    let seedRandom = 0x2545f491;
    const random = () => { seedRandom = (seedRandom * 1103515245 + 12345) >>> 0; return seedRandom / 2 ** 32; };
    const httpRuns: Array<{ p50: number; p99: number }> = [];
    const sqlRuns: Array<{ p50: number; p99: number }> = [];
    const jsRuns: Array<{ p50: number; p99: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const h: number[] = [];
      const s: number[] = [];
      const j: number[] = [];
      for (let i = 0; i < config.apptQueries; i++) {
        const b = Math.floor(random() * branches);
        h.push((await get(base, b)).ms);
        s.push(await query(b));
        j.push(maths(b).ms);
      }
      httpRuns.push({ p50: percentile(h, 50), p99: percentile(h, 99) });
      sqlRuns.push({ p50: percentile(s, 50), p99: percentile(s, 99) });
      jsRuns.push({ p50: percentile(j, 50), p99: percentile(j, 99) });
      ctx.log(`  run ${r + 1}: route p50 ${ms(httpRuns[r].p50)} p99 ${ms(httpRuns[r].p99)}; SQL p50 ${ms(sqlRuns[r].p50)} p99 ${ms(sqlRuns[r].p99)}; findSlots p50 ${ms(jsRuns[r].p50)} p99 ${ms(jsRuns[r].p99)}`);
    }
    const hp50 = median(httpRuns.map((x) => x.p50));
    const hp99 = median(httpRuns.map((x) => x.p99));
    const sp50 = median(sqlRuns.map((x) => x.p50));
    const sp99 = median(sqlRuns.map((x) => x.p99));
    const jp50 = median(jsRuns.map((x) => x.p50));
    const jp99 = median(jsRuns.map((x) => x.p99));
    const share = (x: number) => `${((100 * x) / hp50).toFixed(0)}%`;
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    const rest = hp50 - sp50 - jp50;
    const own = sp50 + jp50;
    const problems: string[] = [];
    if (mismatch.length) problems.push(`the route and findSlots on the same calendars disagree on ${mismatch.length} branch(es): ${mismatch.slice(0, 3).join('; ')}`);
    if (shapes.size !== 1) problems.push(`the route sent ${shapes.size} different statement sequences across branches (the reference replays each branch's own)`);
    const planLines = plans.map((p) => `statement ${p.i + 1} (${p.sql.replace(/\s+/g, ' ').slice(0, 60)}…): ${p.scans.join(', ') || 'no scan named'}`);
    return {
      n: 10,
      name: `Appointment availability (annual check-up: GP + exam room + ECG, ${DAYS_QUERIED} days, random branch of ${branches}; ${Number(counts.holdings).toLocaleString('en-US')} holdings)`,
      result: `route p50 ${ms(hp50)}, p99 ${ms(hp99)}`,
      reference: `its SQL p50 ${ms(sp50)}, p99 ${ms(sp99)}`,
      ratio: `${ratio(hp50, sp50)} p50, ${ratio(hp99, sp99)} p99`,
      target: `route ≤ ${TARGET}× (its SQL + findSlots), p50`,
      met: hp50 / own <= TARGET,
      notes: [
        `where the route's time goes (p50): its SQL ${ms(sp50)} (${share(sp50)}), findSlots ${ms(jp50)} (${share(jp50)}; p99 ${ms(jp99)}; timed in the bench process on the same calendars), the rest (HTTP, token, Prisma, JSON) ${rest > 0 ? ms(rest) : '≈ 0 (the parts, timed apart, add up to the whole or more)'}; route p50 against its SQL + findSlots: ${ratio(hp50, own)}`,
        `busy-time read (statement ${busyAt + 1}) on ${INDEX} (btree): ${indexUsed ? 'yes' : 'no'} — ${busyPlan ? busyPlan.scans.join(', ') || 'no index' : 'not found in the capture'}`,
        ...planLines.map((l) => `plan: ${l}`),
        `busy-time read under EXPLAIN ANALYZE: ${ms(executionMs(busyPlan?.plan ?? ''))} (${buffers(busyPlan?.plan ?? '')}); for comparison, the same rows asked as a range overlap (${GIST}): ${ms(executionMs(plainPlan))} (${buffers(plainPlan)}) on ${indexScans(plainPlan).map((x) => `${x.kind} on ${x.index}`).join(', ') || 'no index'}`,
        `the route sends ${statements.length} statement(s) per request; free starts answered per branch: median ${fmt(median(answered))} (min ${Math.min(...answered)}, max ${Math.max(...answered)}); findSlots on the pg-read calendars finds the same number for ${branches - mismatch.length}/${branches} branches`,
        `working time booked over the ${DAYS_QUERIED} days, per resource queried (${bookedShare.length}): median ${pct(median(bookedShare))}, min ${pct(Math.min(...bookedShare))}, max ${pct(Math.max(...bookedShare))}; seeding took ${fmt(seedMs / 1000)} s`,
      ],
      inputs: [
        `own database: ${branches} branches × ${TEMPLATES.length} resources (4 GPs, 2 nurses, 4 exam rooms, a sampling room, 2 ECGs, an ultrasound; ${ZONE}; weekly hours with a lunch break, Saturday mornings, ECG 2 three days a week) = ${counts.resources} resources`,
        `${counts.exceptions} exceptions: a day's leave about one day in 23 per resource, a public holiday 40 days ahead at a third of the branches, doctors' Sunday mornings every other week, ECG 1 an hour longer on Thursdays`,
        `${counts.holdings} holdings (${counts.in_force} in force, one in 12 released) from ${HISTORY_DAYS} days ago to ${DAYS_QUERIED + 2} days ahead: each 30-minute block of working time held for 20 or 30 minutes with the resource's probability in [${P_MIN}, ${P_MAX}], none on days away; one appointment row each; ANALYZE after seeding`,
        `GET /?visitTypeId=${VISIT_TYPE}&branchId=<random of ${branches}>&from=${first}&to=${last}&limit=${LIMIT} (${DAYS_QUERIED} branch-local days from tomorrow; ${LIMIT} is the route's maximum, so the whole window is worked out) with a patient's ES256 token, on appointment-availability (built, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info); one client, sequential`,
        `reference: the statements the function sent for that branch (captured on the wire, one request per branch after 2 unrecorded ones), sent again with pg on one connection, in order with the captured parameters (extended protocol), alternating with the route calls; findSlots timed on calendars read with pg for the same window`,
        `${config.repeats} runs × ${config.apptQueries} calls of each after one warm-up call per branch; p50/p99 per run, median of the runs`,
      ],
      runs: [
        `route p50 ms: ${runs(httpRuns.map((x) => x.p50))}; p99 ms: ${runs(httpRuns.map((x) => x.p99))}`,
        `SQL p50 ms: ${runs(sqlRuns.map((x) => x.p50))}; p99 ms: ${runs(sqlRuns.map((x) => x.p99))}`,
        `findSlots p50 ms: ${runs(jsRuns.map((x) => x.p50))}; p99 ms: ${runs(jsRuns.map((x) => x.p99))}`,
      ],
      appendix: [
        `What appointment-availability sent for one request (${branchId(0)}, wire capture):`,
        '',
        ...describeStatements(statements, 2000),
        '',
        `parameters of the busy-time read: ${JSON.stringify(statements[busyAt]?.values)}`,
        '',
        ...plans.flatMap((p) => [`EXPLAIN (ANALYZE, BUFFERS) of statement ${p.i + 1}:`, '', p.plan, '']),
        'For comparison (not sent by the route): the busy-time read as a range overlap on the GiST index, same window:',
        '',
        plainPlan,
      ].join('\n'),
      ok: problems.length === 0,
      problems,
    };
  } finally {
    conn?.release();
    await fn?.stop();
    await pool.end();
  }
}
