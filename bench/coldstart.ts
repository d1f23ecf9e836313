// Row 4 — cold start and footprint. Functions started as their containers start them — node running the
// faas-js-runtime CLI on the built function, working directory its folder — timed from spawn to the first 200
// on /health/readiness, with their resident memory at that moment (VmRSS); then ten requests one after the
// other that touch the database, to see what the first one pays (connections, JWKS, lazy loading). Measured:
// queue-board (a public GET) and book-slot (a patient's booking). Reference: a plain faas-js-runtime function
// (bench/fixtures/hello-plain, no kit) started the same way.
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../scripts/lib/runtime/host';
import type { BenchContext, Row } from './lib/context';
import { spawnTracked, stopChild, waitFor200, vmRssKb, ROOT, FAAS_CLI } from './lib/procs';
import { median, fmt, ms, ratio, runs } from './lib/stats';

const REQUESTS = 10;
const BRANCH = 'bench-b4';
const SERVICE = 'bench-draw-4';
/** A slot far from full: every start books ten places in it. */
const SLOT = '00000000-0000-4000-8004-000000000001';
const TARGET = { ratio: 1.5, rssMiB: 64, firstOverTenthMs: 20 };

interface Start {
  readyMs: number;
  rssKb: number;
  /** Latency of each request after ready, in order. */
  requests: number[];
}

interface Subject {
  name: string;
  source: string;
  request?: (n: number) => Promise<{ path: string; init: RequestInit }>;
}

async function coldStart(ctx: BenchContext, s: Subject): Promise<Start> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, [FAAS_CLI, ctx.build.js(s.source), '--port', String(port)], {
    cwd: path.join(ROOT, path.dirname(s.source)), env: ctx.functionEnv(s.name), stdio: 'ignore',
  });
  try {
    const ready = await waitFor200(`${url}/health/readiness`, child, 60_000, 2);
    const rssKb = vmRssKb(child.pid!);
    const requests: number[] = [];
    if (s.request) {
      for (let i = 0; i < REQUESTS; i++) {
        const { path: p, init } = await s.request(i);
        const t = performance.now();
        const res = await fetch(`${url}${p}`, { ...init, signal: AbortSignal.timeout(30_000) });
        const body = await res.text();
        requests.push(performance.now() - t);
        if (res.status >= 300) throw new Error(`${s.name} answered ${res.status} to request ${i + 1} after ready: ${body.slice(0, 300)}`);
      }
    }
    return { readyMs: ready - t0, rssKb, requests };
  } finally {
    await stopChild(child);
  }
}

export async function coldStartFootprint(ctx: BenchContext): Promise<Row> {
  const n = ctx.config.starts;
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench cold-start branch', 'Asia/Ho_Chi_Minh') ON CONFLICT DO NOTHING`, [BRANCH]);
    await client.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ($1, 'Bench blood draw 4', 'D', 5, false) ON CONFLICT DO NOTHING`, [SERVICE]);
    await client.query(
      `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
       VALUES ($1, $2, $3, date_trunc('minute', now()) + interval '5 days', date_trunc('minute', now()) + interval '5 days 5 minutes', 100000, 0, 'open', now())`,
      [SLOT, BRANCH, SERVICE]);
  } finally {
    await client.end();
  }
  let booking = 0;
  const subjects: Subject[] = [
    { name: 'bench-plain', source: 'bench/fixtures/hello-plain/index.ts', request: async () => ({ path: '/', init: {} }) },
    { name: 'queue-board', source: 'functions/booking-queue/queue-board/index.ts', request: async () => ({ path: `/?branchId=${BRANCH}`, init: {} }) },
    {
      name: 'book-slot', source: 'functions/booking-queue/book-slot/index.ts',
      request: async () => {
        const b = booking++;
        return {
          path: '/',
          init: {
            method: 'POST',
            headers: { authorization: `Bearer ${await ctx.token(`bench-cold-patient-${b}`, 'patient')}`, 'content-type': 'application/json', 'idempotency-key': `bench-cold-${b}` },
            body: JSON.stringify({ slotId: SLOT }),
          },
        };
      },
    },
  ];
  const starts: Record<string, Start[]> = Object.fromEntries(subjects.map((s) => [s.name, []]));
  // Let the file cache see every file once, so all runs start from the same (warm-cache) state.
  for (const s of subjects) await coldStart(ctx, s);
  for (let i = 0; i < n; i++) for (const s of subjects) starts[s.name].push(await coldStart(ctx, s));

  const ready = (k: string) => median(starts[k].map((x) => x.readyMs));
  const rss = (k: string) => median(starts[k].map((x) => x.rssKb)) / 1024;
  const nth = (k: string, i: number) => median(starts[k].map((x) => x.requests[i]));
  const judged = ['queue-board', 'book-slot'].map((k) => {
    const r = ready(k) / ready('bench-plain');
    const gap = nth(k, 0) - nth(k, REQUESTS - 1);
    return { k, r, gap, ok: r <= TARGET.ratio && rss(k) <= TARGET.rssMiB && gap <= TARGET.firstOverTenthMs };
  });
  ctx.log(`  ready ms: ${subjects.map((s) => `${s.name} ${runs(starts[s.name].map((x) => x.readyMs))}`).join('; ')}`);
  const describe = (k: string) => `${k}: ${ms(ready(k))} to ready (${ratio(ready(k), ready('bench-plain'))}), RSS ${fmt(rss(k))} MiB, request 1 ${ms(nth(k, 0))} vs request ${REQUESTS} ${ms(nth(k, REQUESTS - 1))} (first − tenth ${ms(nth(k, 0) - nth(k, REQUESTS - 1))})`;
  return {
    n: 4,
    name: 'Cold start and footprint (queue-board, book-slot; faas-js-runtime CLI, built)',
    result: `queue-board ${ms(ready('queue-board'))} to ready, RSS ${fmt(rss('queue-board'))} MiB; book-slot ${ms(ready('book-slot'))}, ${fmt(rss('book-slot'))} MiB`,
    reference: `${ms(ready('bench-plain'))}, RSS ${fmt(rss('bench-plain'))} MiB (plain faas-js-runtime hello function)`,
    ratio: `${ratio(ready('queue-board'), ready('bench-plain'))} / ${ratio(ready('book-slot'), ready('bench-plain'))}`,
    target: `≤ ${TARGET.ratio}×, RSS ≤ ${TARGET.rssMiB} MiB, request 1 ≤ request ${REQUESTS} + ${TARGET.firstOverTenthMs} ms`,
    met: judged.every((j) => j.ok),
    notes: [
      ...['queue-board', 'book-slot'].map(describe),
      `plain hello function: request 1 ${ms(nth('bench-plain', 0))}, request ${REQUESTS} ${ms(nth('bench-plain', REQUESTS - 1))}`,
      `judged: ${judged.map((j) => `${j.k} ${j.ok ? 'met' : 'not met'} (ratio ${j.r.toFixed(2)}, RSS ${fmt(rss(j.k))} MiB, first − tenth ${ms(j.gap)})`).join('; ')}`,
    ],
    inputs: [
      `node ${path.relative(ROOT, FAAS_CLI)} <build>/<function>/index.js --port <free>, cwd the function's folder, NODE_ENV=production, LOG_LEVEL=info, DATABASE_URL set (the containers' environment)`,
      `ready = first 200 from GET /health/readiness (polled every 2 ms); RSS = VmRSS of /proc/<pid>/status at that moment`,
      `after ready, ${REQUESTS} requests one after the other: queue-board GET /?branchId=${BRANCH} (a transaction reading the branch and its tickets); book-slot POST / (a new patient's ES256 token and Idempotency-Key each time, one slot); plain: GET /`,
      `${n} starts of each, interleaved (plain, queue-board, book-slot), after one unmeasured start of each to warm the file cache`,
    ],
    runs: subjects.flatMap((s) => [
      `${s.name} ready ms: ${runs(starts[s.name].map((x) => x.readyMs))}; RSS MiB: ${runs(starts[s.name].map((x) => x.rssKb / 1024))}`,
      `${s.name} request 1 ms: ${runs(starts[s.name].map((x) => x.requests[0]))}; request ${REQUESTS} ms: ${runs(starts[s.name].map((x) => x.requests[REQUESTS - 1]))}`,
    ]),
    ok: true,
  };
}
