// Row 4 — cold start and footprint. One function (queue-board) started as its container starts it — node running
// the faas-js-runtime CLI on the compiled function, working directory its folder — timed from spawn to the first
// 200 on /health/readiness; its resident memory once ready (VmRSS). Reference: spawn to exit of `node -e ''`.
// Also, for comparison: the same start through tsx (npm run function), and the first real request after ready
// (which opens the database connection).
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../scripts/lib/runtime/host';
import type { BenchContext, Row } from './lib/context';
import { spawnTracked, stopChild, waitFor200, vmRssKb, ROOT, FAAS_CLI } from './lib/procs';
import { median, fmt, ms, ratio, runs } from './lib/stats';

const FUNCTION = 'functions/booking-queue/queue-board/index.ts';

async function nodeEmpty(): Promise<number> {
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error("node -e '' did not exit within 30 s")); }, 30_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
  });
  return performance.now() - t0;
}

async function coldStart(ctx: BenchContext, mode: 'compiled' | 'tsx', branchId: string): Promise<{ readyMs: number; rssKb: number; firstMs: number }> {
  const port = await freePort();
  const args = mode === 'compiled'
    ? [FAAS_CLI, ctx.build.js(FUNCTION), '--port', String(port)]
    : ['--require', 'tsx/cjs', FAAS_CLI, path.join(ROOT, FUNCTION), '--port', String(port)];
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, args, {
    cwd: path.join(ROOT, path.dirname(FUNCTION)), env: ctx.functionEnv('queue-board'), stdio: 'ignore',
  });
  try {
    const ready = await waitFor200(`${url}/health/readiness`, child, 60_000, 2);
    const rssKb = vmRssKb(child.pid!);
    const t1 = performance.now();
    const res = await fetch(`${url}/?branchId=${encodeURIComponent(branchId)}`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`queue-board answered ${res.status} to its first request`);
    return { readyMs: ready - t0, rssKb, firstMs: performance.now() - t1 };
  } finally {
    await stopChild(child);
  }
}

export async function coldStartFootprint(ctx: BenchContext): Promise<Row> {
  const n = ctx.config.starts;
  const branchId = 'bench-b4';
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench cold-start branch', 'Asia/Ho_Chi_Minh') ON CONFLICT DO NOTHING`, [branchId]);
  } finally {
    await client.end();
  }
  const empty: number[] = [];
  const compiled: Array<{ readyMs: number; rssKb: number; firstMs: number }> = [];
  const viaTsx: Array<{ readyMs: number; rssKb: number; firstMs: number }> = [];
  // Let the file cache see every file once, so all runs start from the same (warm-cache) state.
  await nodeEmpty();
  await coldStart(ctx, 'compiled', branchId);
  await coldStart(ctx, 'tsx', branchId);
  for (let i = 0; i < n; i++) {
    empty.push(await nodeEmpty());
    compiled.push(await coldStart(ctx, 'compiled', branchId));
    viaTsx.push(await coldStart(ctx, 'tsx', branchId));
  }
  ctx.log(`  compiled ready ${runs(compiled.map((c) => c.readyMs))} ms; node -e '' ${runs(empty)} ms`);
  const ready = median(compiled.map((c) => c.readyMs));
  const base = median(empty);
  const rssMb = median(compiled.map((c) => c.rssKb)) / 1024;
  return {
    n: 4,
    name: 'Cold start and footprint (queue-board, faas-js-runtime CLI, compiled)',
    result: `${ms(ready)} to ready; RSS ${fmt(rssMb)} MiB`,
    reference: `${ms(base)} (node -e '')`,
    ratio: ratio(ready, base),
    notes: [
      `first request after ready (opens the database connection): ${ms(median(compiled.map((c) => c.firstMs)))}`,
      `through tsx (npm run function): ${ms(median(viaTsx.map((c) => c.readyMs)))} to ready, RSS ${fmt(median(viaTsx.map((c) => c.rssKb)) / 1024)} MiB`,
    ],
    inputs: [
      `node ${path.relative(ROOT, FAAS_CLI)} <tsc output>/${FUNCTION.replace(/\.ts$/, '.js')} --port <free>, cwd ${path.dirname(FUNCTION)}, NODE_ENV=production, LOG_LEVEL=info, DATABASE_URL set`,
      `ready = first 200 from GET /health/readiness (polled every 2 ms); RSS = VmRSS of /proc/<pid>/status at that moment`,
      `${n} starts each (after one unmeasured start of each to warm the file cache), interleaved with ${n} runs of node -e ''`,
    ],
    runs: [
      `compiled ready ms: ${runs(compiled.map((c) => c.readyMs))}`,
      `compiled RSS MiB: ${runs(compiled.map((c) => c.rssKb / 1024))}`,
      `tsx ready ms: ${runs(viaTsx.map((c) => c.readyMs))}`,
      `node -e '' ms: ${runs(empty)}`,
    ],
    ok: true,
  };
}
