// Row 3 — function overhead. The same load generator (autocannon, in the bench process) against three servers,
// each its own process: a trivial route() function under the faas-js-runtime CLI (what every route here is made
// of), a plain faas-js-runtime function without the kit, and a bare Fastify handler (the reference). All three
// answer GET / with the same small JSON and touch no database.
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../scripts/lib/runtime/host';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, spawnTracked, stopChild, waitFor200, ROOT, type FunctionProcess } from './lib/procs';
import { median, fmt, ms, ratio, runs } from './lib/stats';

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function startBareFastify(ctx: BenchContext): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [ctx.build.js('bench/fixtures/bare-fastify.ts'), String(port)], {
    cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(url, child, 30_000, 20);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, stop: () => stopChild(child) };
}

async function hit(url: string, connections: number, seconds: number) {
  const r = await autocannon({ url, connections, duration: seconds, timeout: 10 });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.timeouts + r.non2xx };
}

export async function functionOverhead(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const servers: Array<Server | FunctionProcess> = [];
  try {
    const routeFn = await startFunctionProcess({
      name: 'trivial route function',
      file: ctx.build.js('bench/fixtures/hello-route/index.ts'),
      cwd: path.join(ROOT, 'bench/fixtures/hello-route'),
      env: ctx.functionEnv('bench-hello'),
    });
    servers.push(routeFn);
    const plainFn = await startFunctionProcess({
      name: 'plain function',
      file: ctx.build.js('bench/fixtures/hello-plain/index.ts'),
      cwd: path.join(ROOT, 'bench/fixtures/hello-plain'),
      env: ctx.functionEnv('bench-plain'),
    });
    servers.push(plainFn);
    const bare = await startBareFastify(ctx);
    servers.push(bare);

    const targets = [
      { key: 'bare', url: bare.url },
      { key: 'route', url: routeFn.url },
      { key: 'plain', url: plainFn.url },
    ] as const;
    for (const t of targets) await hit(t.url, config.httpConnections, 1); // warm-up (JIT)

    const results: Record<string, Array<{ rps: number; p50: number; p99: number; bad: number }>> = { bare: [], route: [], plain: [] };
    for (let r = 0; r < config.repeats; r++) {
      // Rotate the order so a drift of the machine does not always favour the same server.
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r) % targets.length];
        results[t.key].push(await hit(t.url, config.httpConnections, config.httpSecs));
      }
      ctx.log(`  run ${r + 1}: route fn ${fmt(results.route[r].rps)} req/s, plain fn ${fmt(results.plain[r].rps)}, bare Fastify ${fmt(results.bare[r].rps)}`);
    }
    const med = (k: string, f: 'rps' | 'p50' | 'p99') => median(results[k].map((x) => x[f]));
    // autocannon records latency in whole milliseconds.
    const lat = (k: string) => ['p50', 'p99'].map((f) => { const v = med(k, f as 'p50'); return v < 1 ? '<1 ms' : ms(v); }).join('/');
    const bad = Object.values(results).flat().reduce((a, x) => a + x.bad, 0);
    return {
      n: 3,
      name: 'Function overhead (trivial route function vs bare Fastify)',
      result: `${fmt(med('route', 'rps'))} req/s`,
      reference: `${fmt(med('bare', 'rps'))} req/s (bare Fastify)`,
      ratio: ratio(med('route', 'rps'), med('bare', 'rps')),
      notes: [
        `plain faas-js-runtime function (no kit): ${fmt(med('plain', 'rps'))} req/s (${ratio(med('plain', 'rps'), med('bare', 'rps'))} of bare Fastify)`,
        `latency p50/p99 at full load (autocannon, whole ms): route fn ${lat('route')}, plain fn ${lat('plain')}, bare ${lat('bare')}`,
        `non-2xx, errors and timeouts: ${bad}`,
      ],
      inputs: [
        `autocannon ${config.httpConnections} connections, ${config.httpSecs} s per run, GET /, ${config.repeats} runs per server in rotating order after a 1 s warm-up each`,
        `route fn: bench/fixtures/hello-route (route(), public GET, returns {hello:'world'}); plain fn: bench/fixtures/hello-plain; both compiled, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info`,
        `reference: bench/fixtures/bare-fastify (Fastify ${require('fastify/package.json').version}, logger off, same JSON), compiled, one process`,
      ],
      runs: [
        `route fn req/s: ${runs(results.route.map((x) => x.rps))}`,
        `plain fn req/s: ${runs(results.plain.map((x) => x.rps))}`,
        `bare Fastify req/s: ${runs(results.bare.map((x) => x.rps))}`,
      ],
      ok: bad === 0,
      problems: bad ? [`${bad} requests failed or answered non-2xx`] : [],
    };
  } finally {
    for (const s of servers) await s.stop();
  }
}
