// Row 8 — the operators' letter list at volume. A database of its own is filled with SQL generate_series:
// 1,000,000 letters over 90 days, 240 groups of alike failures of very different sizes (a few large, many
// small), five systems, statuses as a real backlog has them (most resolved, recent ones still open). Then the
// list function (built, faas-js-runtime CLI) is asked for a page of 50 with several filter combinations an
// operator uses, a page deep in a cursor walk, and one combination that matches nothing. Measured: p50/p99 of
// the route over HTTP, and of the very statement it sends (captured on the wire from the function, lib/
// pg-wire.ts) run directly with pg — the reference. EXPLAIN (ANALYZE, BUFFERS) of each statement shows the
// index the planner takes (prisma/schema/dead-letter.prisma: status, system + status, fingerprint, each with
// received_at DESC, id; and received_at DESC, id alone).
import { indexScans } from './lib/plan';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../scripts/lib/migrations';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, type FunctionProcess } from './lib/procs';
import { startPgCapture, describeStatements, type WireStatement } from './lib/pg-wire';
import { median, percentile, fmt, ms, ratio } from './lib/stats';

const PAGE = 50;
const DEEP_PAGE = 20;
/** p99 each combination an index serves must keep under. */
const TARGET_P99_MS = 50;
/** The combination that matches nothing reads the whole received_at index: a few calls tell its cost. */
const NO_MATCH_CALLS = 5;

/**
 * 1,000,000 letters: group g = ⌊240·u³⌋ (u uniform) so small g are large groups; each group belongs to one system,
 * consumer, event type and code; received uniformly over the last 90 days; the last day's letters mostly still
 * waiting, older ones mostly resolved. setseed makes the spread the same in every run.
 */
const FILL = `
INSERT INTO dead_letter.dead_letter (id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code,
  reason, fingerprint, event, system, partition, kafka_offset, record_key, status, status_reason, status_by, status_at, resolution,
  received_at, last_seen_at, attempts, retries, next_retry_at)
SELECT gen_random_uuid(), 'bench-' || i, '/' || k.system, k.type, k.topic, k.consumer || '-source', k.consumer,
  'http://' || k.consumer || '.patient-portal.svc.cluster.local', k.code, k.reason, k.fingerprint,
  jsonb_build_object('specversion', '1.0', 'id', 'bench-' || i, 'source', '/' || k.system, 'type', k.type, 'datacontenttype', 'application/json',
    'data', jsonb_build_object('requestId', 'bench-' || i, 'patientId', 'p-' || (i % 50000), 'slotId', md5(i::text))),
  k.system, i % 12, i, 'p-' || (i % 50000), s.status,
  CASE s.status WHEN 'parked' THEN 'cannot heal: the consumer refused it' WHEN 'discarded' THEN 'test traffic' END,
  CASE WHEN s.status IN ('parked', 'discarded') THEN 'staff:ops-1' ELSE 'intake' END,
  t.at + interval '5 minutes', CASE WHEN s.status = 'resolved' THEN 'auto-retry' END,
  t.at, t.at + interval '1 minute', 1 + i % 3, i % 3, CASE WHEN s.status = 'open' THEN t.at + interval '10 minutes' END
FROM generate_series(1, $1::int) i
CROSS JOIN LATERAL (SELECT i AS n, floor(240 * power(random(), 3))::int AS g, random() AS r, now() - random() * interval '90 days' AS at) t
CROSS JOIN LATERAL (SELECT CASE WHEN t.g % 20 < 7 THEN 0 WHEN t.g % 20 < 13 THEN 1 WHEN t.g % 20 < 17 THEN 2 WHEN t.g % 20 < 19 THEN 3 ELSE 4 END AS n) sys
CROSS JOIN LATERAL (
  SELECT substr(md5('group-' || t.g), 1, 16) AS fingerprint,
    (ARRAY['booking-queue', 'patient-booking', 'appointment', 'notification', 'unknown'])[1 + sys.n] AS system,
    (ARRAY['com.medlab.booking.requested', 'com.medlab.result.released', 'com.medlab.lis.sample-status', 'com.medlab.notification.requested', 'dev.knative.kafka.event'])[1 + sys.n] AS type,
    (ARRAY['booking-requests', 'result-events', 'lis-sample-status', 'notification-requests', 'crm-customers'])[1 + sys.n] AS topic,
    (ARRAY['booking-consumer', 'result-consumer', 'sample-status', 'notification-consumer', 'crm-sync'])[1 + sys.n] || CASE WHEN t.g % 3 = 2 THEN '-b' ELSE '' END AS consumer,
    (ARRAY[422, 400, 500, 503, 404, 409, 429, NULL])[1 + t.g % 8] AS code,
    'Unprocessable Event: failure kind ' || t.g || ' for "patient ' || (t.g % 97) || '"' AS reason
) k
CROSS JOIN LATERAL (
  SELECT (CASE WHEN t.at > now() - interval '1 day' THEN
      CASE WHEN t.r < 0.35 THEN 'open' WHEN t.r < 0.40 THEN 'retrying' WHEN t.r < 0.60 THEN 'parked' WHEN t.r < 0.95 THEN 'resolved' ELSE 'discarded' END
    ELSE CASE WHEN t.r < 0.03 THEN 'open' WHEN t.r < 0.035 THEN 'retrying' WHEN t.r < 0.15 THEN 'parked' WHEN t.r < 0.90 THEN 'resolved' ELSE 'discarded' END
  END)::dead_letter.letter_status AS status
) s`;

interface Combination {
  name: string;
  query: Record<string, string>;
  /** The index the plan should take (undefined: none serves the filter; the received_at order is scanned). */
  index?: string;
  calls?: number;
  judged: boolean;
}

const scansOf = (plan: string) => [...new Set(indexScans(plan).map((s) => s.index))];

export async function deadLetterList(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const url = await ctx.createDatabase('dllist');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let fn: FunctionProcess | undefined;
  let sqlClient: pg.PoolClient | undefined;
  try {
    const t0 = performance.now();
    const c = await pool.connect();
    try {
      await c.query('SET synchronous_commit = off');
      await c.query('SELECT setseed(0.42)');
      await c.query(FILL, [config.dlLetters]);
      // What autovacuum would have done by the time a backlog this size is read: statistics and the visibility map.
      await c.query('VACUUM ANALYZE dead_letter.dead_letter');
    } finally {
      c.release();
    }
    const fillMs = performance.now() - t0;
    const { rows: [shape] } = await pool.query<{ letters: number; groups: number; size: string; statuses: string; systems: string }>(`
      SELECT count(*)::int AS letters, count(DISTINCT fingerprint)::int AS groups, pg_size_pretty(pg_total_relation_size('dead_letter.dead_letter')) AS size,
        (SELECT string_agg(status || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT status::text, count(*) AS n FROM dead_letter.dead_letter GROUP BY 1) x) AS statuses,
        (SELECT string_agg(system || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT system, count(*) AS n FROM dead_letter.dead_letter GROUP BY 1) x) AS systems
      FROM dead_letter.dead_letter`);
    ctx.log(`  filled ${shape.letters} letters (${shape.size}) in ${fmt(fillMs / 1000)} s`);
    // A group of middling size (the 40th largest); how much of the table the unindexed filters keep.
    const { rows: [mid] } = await pool.query<{ fingerprint: string; n: number }>(
      `SELECT fingerprint, count(*)::int AS n FROM dead_letter.dead_letter GROUP BY fingerprint ORDER BY count(*) DESC OFFSET 39 LIMIT 1`);
    const { rows: [share] } = await pool.query<{ system: number; consumer: number }>(`
      SELECT (100.0 * count(*) FILTER (WHERE system = 'notification') / count(*))::float AS system,
        (100.0 * count(*) FILTER (WHERE consumer = 'result-consumer' AND event_type = 'com.medlab.result.released') / count(*))::float AS consumer
      FROM dead_letter.dead_letter`);

    const token = await ctx.token('bench-operator', 'staff', ['operator']);
    const headers = { authorization: `Bearer ${token}` };
    const combinations: Combination[] = [
      { name: 'newest, no filter', query: {}, index: 'dead_letter_received_at_id_idx', judged: true },
      { name: 'status=open', query: { status: 'open' }, index: 'dead_letter_status_received_at_id_idx', judged: true },
      { name: 'system + status', query: { system: 'patient-booking', status: 'parked' }, index: 'dead_letter_system_status_received_at_id_idx', judged: true },
      { name: `group (${mid.n.toLocaleString('en-US')} letters)`, query: { group: mid.fingerprint }, index: 'dead_letter_fingerprint_received_at_id_idx', judged: true },
      { name: 'status + older than 30 days', query: { status: 'resolved', olderThanMinutes: String(30 * 24 * 60) }, index: 'dead_letter_status_received_at_id_idx', judged: true },
      { name: `status=open, page ${DEEP_PAGE} (cursor)`, query: { status: 'open' }, index: 'dead_letter_status_received_at_id_idx', judged: true },
      { name: `system alone (${fmt(share.system, 2)}% of letters)`, query: { system: 'notification' }, index: 'dead_letter_received_at_id_idx', judged: true },
      { name: `consumer + type (no index; ${fmt(share.consumer, 2)}% of letters)`, query: { consumer: 'result-consumer', type: 'com.medlab.result.released' }, judged: true },
      { name: 'consumer + code matching nothing (no index)', query: { consumer: 'crm-sync-b', code: '409' }, calls: NO_MATCH_CALLS, judged: false },
    ];
    const routeUrl = (base: string, q: Record<string, string>) => `${base}/?${new URLSearchParams({ ...q, limit: String(PAGE) })}`;
    const page = async (base: string, q: Record<string, string>) => {
      const t = performance.now();
      const res = await fetch(routeUrl(base, q), { headers, signal: AbortSignal.timeout(60_000) });
      const body = await res.json() as { letters?: unknown[]; nextCursor?: string | null };
      if (res.status !== 200) throw new Error(`dead-letter-list answered ${res.status} for ${JSON.stringify(q)}: ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t, letters: body.letters!.length, nextCursor: body.nextCursor ?? null };
    };

    // Capture: the statement the route sends for each combination (the third request of each), through a relay.
    const relay = await startPgCapture(url);
    const captured: WireStatement[] = [];
    try {
      const capture = await startFunctionProcess({
        name: 'dead-letter-list (capture)', file: ctx.build.js('functions/dead-letter/list/index.ts'),
        cwd: path.join(ROOT, 'functions/dead-letter/list'), env: ctx.functionEnv('dead-letter-list', { DATABASE_URL: relay.url }),
      });
      try {
        // The deep page: walk the cursor as an operator paging through open letters would.
        const deep = combinations.find((x) => x.name.includes('(cursor)'))!;
        for (let p = 1; p < DEEP_PAGE; p++) {
          const next = (await page(capture.url, deep.query)).nextCursor;
          if (!next) throw new Error(`fewer than ${DEEP_PAGE} pages of open letters: fill more (BENCH_DL_LETTERS)`);
          deep.query = { status: 'open', cursor: next };
        }
        for (const combo of combinations) {
          let window: WireStatement[] = [];
          for (let k = 0; k < (combo.judged ? 3 : 1); k++) {
            const from = relay.statements().length;
            await page(capture.url, combo.query);
            window = relay.statements().slice(from);
          }
          const list = window.filter((s) => /ORDER BY received_at DESC/.test(s.sql));
          if (list.length !== 1 || window.some((s) => s.error)) throw new Error(`expected one list statement for ${combo.name}, saw ${describeStatements(window).join('; ')}`);
          captured.push(list[0]);
        }
      } finally {
        await capture.stop();
      }
    } finally {
      await relay.close();
    }

    const plans: string[] = [];
    const planIndexes: string[][] = [];
    for (const [i, s] of captured.entries()) {
      const plan = (await pool.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, values: s.values })).rows.map((r) => r['QUERY PLAN']).join('\n');
      plans.push(`-- ${combinations[i].name}: ${JSON.stringify(combinations[i].query)}\n${plan}`);
      planIndexes.push(scansOf(plan).concat(/Seq Scan on dead_letter/.test(plan) ? ['Seq Scan'] : []));
    }

    fn = await startFunctionProcess({
      name: 'dead-letter-list', file: ctx.build.js('functions/dead-letter/list/index.ts'),
      cwd: path.join(ROOT, 'functions/dead-letter/list'), env: ctx.functionEnv('dead-letter-list', { DATABASE_URL: url }),
    });
    const conn = (sqlClient = await pool.connect());
    const query = async (s: WireStatement) => {
      const t = performance.now();
      const r = await conn.query({ text: s.sql, values: s.values });
      return { ms: performance.now() - t, rows: r.rowCount ?? 0 };
    };
    const rowsShown: number[] = [];
    for (const [i, combo] of combinations.entries()) {
      const warm = combo.judged ? 10 : 1;
      for (let k = 0; k < warm; k++) { rowsShown[i] = (await page(fn.url, combo.query)).letters; await query(captured[i]); }
    }
    const results = combinations.map(() => ({ route: [] as Array<{ p50: number; p99: number }>, sql: [] as Array<{ p50: number; p99: number }> }));
    for (let r = 0; r < config.repeats; r++) {
      for (const [i, combo] of combinations.entries()) {
        const h: number[] = [];
        const s: number[] = [];
        for (let k = 0; k < (combo.calls ?? config.dlListQueries); k++) {
          h.push((await page(fn.url, combo.query)).ms);
          s.push((await query(captured[i])).ms);
        }
        results[i].route.push({ p50: percentile(h, 50), p99: percentile(h, 99) });
        results[i].sql.push({ p50: percentile(s, 50), p99: percentile(s, 99) });
      }
      ctx.log(`  run ${r + 1}: ${combinations.map((x, i) => `${x.name} p99 ${ms(results[i].route[r].p99)}`).join('; ')}`);
    }
    const med = (i: number, side: 'route' | 'sql', p: 'p50' | 'p99') => median(results[i][side].map((x) => x[p]));
    const judged = combinations.map((x, i) => ({ x, i })).filter(({ x }) => x.judged);
    const worst = judged.reduce((a, b) => (med(b.i, 'route', 'p99') > med(a.i, 'route', 'p99') ? b : a));
    const problems: string[] = [];
    const indexMisses: string[] = [];
    for (const [i, combo] of combinations.entries()) {
      if (combo.index && !planIndexes[i].includes(combo.index)) indexMisses.push(`${combo.name}: expected ${combo.index}, the plan uses ${planIndexes[i].join(', ') || 'no index'}`);
      if (combo.index && planIndexes[i].includes('Seq Scan')) indexMisses.push(`${combo.name}: sequential scan of dead_letter`);
      const expected = combo.judged ? PAGE : 0;
      if (rowsShown[i] !== expected) problems.push(`${combo.name}: the route listed ${rowsShown[i]} letters, expected ${expected}`);
    }
    const met = judged.every(({ i }) => med(i, 'route', 'p99') <= TARGET_P99_MS) && indexMisses.length === 0;
    const p50Ratios = judged.map(({ i }) => med(i, 'route', 'p50') / med(i, 'sql', 'p50'));
    return {
      n: 8,
      name: `Dead-letter list (a page of ${PAGE}; ${shape.letters.toLocaleString('en-US')} letters, ${judged.length} filter combinations)`,
      result: `route p99 ≤ ${ms(med(worst.i, 'route', 'p99'))} (worst: ${worst.x.name}); p50 ${ms(Math.min(...judged.map(({ i }) => med(i, 'route', 'p50'))))}–${ms(Math.max(...judged.map(({ i }) => med(i, 'route', 'p50'))))}`,
      reference: `its SQL p99 ≤ ${ms(Math.max(...judged.map(({ i }) => med(i, 'sql', 'p99'))))}; p50 ${ms(Math.min(...judged.map(({ i }) => med(i, 'sql', 'p50'))))}–${ms(Math.max(...judged.map(({ i }) => med(i, 'sql', 'p50'))))}`,
      ratio: `${ratio(median(p50Ratios), 1)} p50 (median of the combinations)`,
      target: `p99 ≤ ${TARGET_P99_MS} ms for each, on the index expected`,
      met,
      notes: [
        ...combinations.map((x, i) => `${x.name}${x.judged ? '' : ' (not judged)'}: route p50 ${ms(med(i, 'route', 'p50'))}, p99 ${ms(med(i, 'route', 'p99'))}; SQL p50 ${ms(med(i, 'sql', 'p50'))}, p99 ${ms(med(i, 'sql', 'p99'))}; plan: ${planIndexes[i].join(', ') || 'no index'}${x.index ? '' : ' (no index serves this filter: the received_at order is read until the page is full)'}`),
        ...(indexMisses.length ? [`plans not on the expected index: ${indexMisses.join('; ')}`] : ['every filter an index serves is planned on it (EXPLAIN below)']),
        `filling with generate_series and VACUUM ANALYZE took ${fmt(fillMs / 1000)} s; the table with its indexes: ${shape.size}`,
      ],
      inputs: [
        `own database: ${shape.letters.toLocaleString('en-US')} letters over 90 days in ${shape.groups} groups (group ⌊240·u³⌋: a few large, many small); statuses: ${shape.statuses}; systems: ${shape.systems}; VACUUM ANALYZE after filling (SQL in bench/dead-letter-list.ts)`,
        `GET /?<filters>&limit=${PAGE} on dead-letter-list (built, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info) with an operator's ES256 token; one client, sequential; combinations: ${combinations.map((x) => `${x.name} ${JSON.stringify(x.query).replace(/"cursor":"[^"]+"/, '"cursor":"…"')}`).join('; ')}`,
        `the deep page: the cursor reached by following nextCursor ${DEEP_PAGE - 1} times through open letters`,
        `reference: the statement the route sent for each combination (captured on the wire after 2 unrecorded requests), run with pg on one connection with the captured parameters, alternating with the route calls`,
        `${config.repeats} runs × ${config.dlListQueries} calls of each combination (${NO_MATCH_CALLS} for the one matching nothing) after 10 warm-up calls; p50/p99 per run, median of the runs`,
      ],
      runs: combinations.map((x, i) => `${x.name}: route p99 ms ${results[i].route.map((r) => fmt(r.p99)).join(' / ')}; SQL p99 ms ${results[i].sql.map((r) => fmt(r.p99)).join(' / ')}`),
      appendix: `What the list route sent, e.g. for status=open (wire capture):\n\n${describeStatements([captured[1]], 2000).join('\n')}\n\nEXPLAIN (ANALYZE, BUFFERS) of each combination's statement:\n\n${plans.join('\n\n')}`,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    sqlClient?.release();
    await fn?.stop();
    await pool.end();
  }
}
