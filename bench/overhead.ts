// Row 3 — function overhead. The same load generator (autocannon, in the bench process) against servers that
// each answer GET / with the same small JSON and touch no database, each its own process: a trivial route()
// function and a plain faas-js-runtime function (the reference: what route() adds), both built and served by
// the faas-js-runtime CLI; then bare Fastify (the runtime's own framework, the second reference) alone and with,
// one at a time, each piece faas-js-runtime adds around a function (bench/fixtures/runtime-pieces.ts, built from
// the runtime's own modules), to show where the runtime's cost goes; and a CPU profile of the plain function
// under the same load.
import path from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { freePort } from '../scripts/lib/runtime/host';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, spawnTracked, stopChild, waitFor200, ROOT, FAAS_CLI, type FunctionProcess } from './lib/procs';
import { summariseProfile } from './lib/cpuprofile';
import { median, fmt, ms, ratio, runs } from './lib/stats';

interface Server {
  url: string;
  child: { pid?: number };
  stop(): Promise<void>;
}

/** Pieces measured one at a time on bare Fastify (see the fixture), then all together. */
const PIECES = ['logger', 'metrics', 'cloudevent', 'context', 'invoker', 'parsers', 'health'] as const;
const PIECE_WHAT: Record<(typeof PIECES)[number], string> = {
  logger: 'Fastify logger (pino, level warn: a child logger per request, no line written)',
  metrics: 'prom-client: registry, default metrics, onRequest/preHandler/onResponse hooks (a counter and two histograms per request)',
  cloudevent: 'CloudEvent check of every request (lib/event-handler.js: HTTP.isEvent throws and catches on a plain request)',
  context: 'Context object per request (copies of query and headers)',
  invoker: 'invocation path (invoker, reply with the runtime\'s CORS and content-type headers); with context',
  parsers: 'content-type parsers (form-urlencoded, * as buffer); a GET has no body',
  health: 'health routes with overload-protection (samples the event loop)',
};

async function startPieces(ctx: BenchContext, pieces: string): Promise<Server> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [ctx.build.js('bench/fixtures/runtime-pieces.ts'), String(port), pieces], {
    cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(url, child, 30_000, 20);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, child, stop: () => stopChild(child) };
}

/** CPU time (user + system) a process has used so far, in microseconds (/proc/<pid>/stat, clock ticks). */
const TICK_US = 1e6 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100);
function cpuUs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return NaN;
  }
}

/**
 * Load on one server. Besides requests per second (which other work on the machine moves), the server's own CPU
 * time per request, which moves far less with the machine's load: the figure the runtime's pieces are compared by.
 */
async function hit(server: Server, connections: number, seconds: number) {
  const cpu0 = cpuUs(server.child.pid);
  const r = await autocannon({ url: server.url, connections, duration: seconds, timeout: 10 });
  const cpu = (cpuUs(server.child.pid) - cpu0) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, cpu, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.timeouts + r.non2xx };
}

/** Per-request cost in microseconds of a server that answers `rps`, above one that answers `base`. */
const extraUs = (rps: number, base: number) => (1 / rps - 1 / base) * 1e6;

export async function functionOverhead(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const servers: Array<Server | FunctionProcess> = [];
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-cpuprof-'));
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
    const bare = await startPieces(ctx, 'none');
    servers.push(bare);

    // Do the functions write log lines per request at their log level? Count what each writes to stdout (its
    // container's log, which the bench otherwise discards) over 200 requests.
    const lines = { plain: await logLinesPerRequest(ctx, 'hello-plain'), route: await logLinesPerRequest(ctx, 'hello-route') };

    const targets = [
      { key: 'route', server: routeFn },
      { key: 'plain', server: plainFn },
      { key: 'bare', server: bare },
    ] as const;
    for (const t of targets) await hit(t.server, config.httpConnections, 1); // warm-up (JIT)

    const results: Record<string, Array<{ rps: number; cpu: number; p50: number; p99: number; bad: number }>> = { bare: [], route: [], plain: [] };
    for (let r = 0; r < config.repeats; r++) {
      // Rotate the order so a drift of the machine does not always favour the same server.
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r) % targets.length];
        results[t.key].push(await hit(t.server, config.httpConnections, config.httpSecs));
      }
      ctx.log(`  run ${r + 1}: route fn ${fmt(results.route[r].rps)} req/s, plain fn ${fmt(results.plain[r].rps)}, bare Fastify ${fmt(results.bare[r].rps)}`);
    }
    const med = (k: string, f: 'rps' | 'cpu' | 'p50' | 'p99' = 'rps') => median(results[k].map((x) => x[f]));

    // Where the runtime's cost goes: bare Fastify with each piece alone, then with all of them, all running at
    // once. Each round measures bare Fastify, every variant, then bare Fastify again; a variant's cost is its CPU
    // time per request above the mean of the round's two bare measurements. (Leaving one piece out of all of them
    // was tried too: on a shared 2-core machine its differences drown in noise.)
    const pieceSecs = 2;
    const variants = [...PIECES, 'all'];
    const pieceServers = new Map<string, Server>();
    for (const v of variants) {
      const s = await startPieces(ctx, v);
      servers.push(s);
      pieceServers.set(v, s);
      await hit(s, config.httpConnections, 1);
    }
    const pieceRows = variants.map((piece) => ({ piece, rps: [] as number[], cpu: [] as number[], bareCpu: [] as number[] }));
    for (let r = 0; r < config.repeats; r++) {
      const before = await hit(bare, config.httpConnections, pieceSecs);
      const measured: Array<{ rps: number; cpu: number }> = [];
      for (const v of variants) measured.push(await hit(pieceServers.get(v)!, config.httpConnections, pieceSecs));
      const after = await hit(bare, config.httpConnections, pieceSecs);
      measured.forEach((m, i) => { pieceRows[i].rps.push(m.rps); pieceRows[i].cpu.push(m.cpu); pieceRows[i].bareCpu.push((before.cpu + after.cpu) / 2); });
      ctx.log(`  pieces round ${r + 1}: CPU µs per request: bare ${fmt(before.cpu)} → ${fmt(after.cpu)}; ${variants.map((v, i) => `${v} ${fmt(measured[i].cpu)}`).join(', ')}`);
    }
    for (const v of variants) await pieceServers.get(v)!.stop();

    // A CPU profile of the plain function under the same load.
    const profiled = await startFunctionProcess({
      name: 'plain function (profiled)',
      file: ctx.build.js('bench/fixtures/hello-plain/index.ts'),
      cwd: path.join(ROOT, 'bench/fixtures/hello-plain'),
      env: ctx.functionEnv('bench-plain'),
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir],
    });
    await hit(profiled, config.httpConnections, 1);
    await hit(profiled, config.httpConnections, config.httpSecs);
    await profiled.stop();
    const profileFile = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    const profile = profileFile ? summariseProfile(path.join(profileDir, profileFile)) : undefined;

    const plainUs = med('plain', 'cpu') - med('bare', 'cpu');
    const pieceUs = pieceRows.map((p) => ({ piece: p.piece, us: median(p.cpu.map((x, i) => x - p.bareCpu[i])), rps: median(p.rps) }));
    const alone = pieceUs.filter((p) => (PIECES as readonly string[]).includes(p.piece));
    const sumUs = alone.reduce((a, p) => a + p.us, 0);
    const allUs = pieceUs.find((p) => p.piece === 'all')!.us;
    const bad = Object.values(results).flat().reduce((a, x) => a + x.bad, 0);
    // autocannon records latency in whole milliseconds.
    const lat = (k: string) => (['p50', 'p99'] as const).map((f) => { const v = med(k, f); return v < 1 ? '<1 ms' : ms(v); }).join('/');
    const r3 = med('route') / med('plain');
    return {
      n: 3,
      name: 'Function overhead (trivial route() function vs plain faas-js-runtime function)',
      result: `${fmt(med('route'))} req/s`,
      reference: `${fmt(med('plain'))} req/s (plain faas-js-runtime function)`,
      ratio: ratio(med('route'), med('plain')),
      target: '≥ 0.95×',
      met: r3 >= 0.95,
      notes: [
        `second reference, bare Fastify: ${fmt(med('bare'))} req/s; the plain function is ${ratio(med('plain'), med('bare'))} of it, the route function ${ratio(med('route'), med('bare'))}; server CPU per request: bare ${fmt(med('bare', 'cpu'))} µs, plain ${fmt(med('plain', 'cpu'))} µs, route ${fmt(med('route', 'cpu'))} µs (route() adds ${fmt(med('route', 'cpu') - med('plain', 'cpu'))} µs of CPU, ${fmt(extraUs(med('route'), med('plain')))} µs of wall time per request at full load)`,
        `where the runtime's ${fmt(plainUs)} µs of CPU per request go (bare Fastify + one piece of faas-js-runtime at a time, CPU µs per request above bare Fastify in the same round, share of the plain function's extra): ${[...alone].sort((a, b) => b.us - a.us).map((p) => `${p.piece} ${fmt(p.us)} µs (${plainUs > 0 ? Math.round((100 * p.us) / plainUs) : '?'}%)`).join('; ')}; one by one they add up to ${fmt(sumUs)} µs, all together ${fmt(allUs)} µs (the plain function: ${fmt(plainUs)} µs)`,
        `log lines per request at LOG_LEVEL=info (Fastify's own logger runs at FUNC_LOG_LEVEL, default warn, whatever LOG_LEVEL says): plain function ${lines.plain === undefined ? 'could not be counted' : fmt(lines.plain)}, route function ${lines.route === undefined ? 'could not be counted' : fmt(lines.route)}`,
        ...(profile ? [
          `CPU profile of the plain function under load (node --cpu-prof, ${fmt(profile.busyMs / 1000)} s busy): by package ${profile.packages.slice(0, 8).map((p) => `${p.name} ${Math.round(p.share * 100)}%`).join(', ')}`,
          `top self time: ${profile.functions.slice(0, 8).map((f) => `${f.name} (${f.where || 'native'}) ${Math.round(f.share * 100)}%`).join('; ')}`,
        ] : ['CPU profile: no .cpuprofile was written']),
        `latency p50/p99 at full load (autocannon, whole ms): route fn ${lat('route')}, plain fn ${lat('plain')}, bare ${lat('bare')}`,
        `non-2xx, errors and timeouts: ${bad}`,
      ],
      inputs: [
        `autocannon ${config.httpConnections} connections, ${config.httpSecs} s per run, GET /, ${config.repeats} runs per server in rotating order after a 1 s warm-up each`,
        `route fn: bench/fixtures/hello-route (route(), public GET, returns {hello:'world'}); plain fn (reference): bench/fixtures/hello-plain (handle returns the same object); both built as the functions are, faas-js-runtime CLI, NODE_ENV=production, LOG_LEVEL=info`,
        `second reference: bench/fixtures/runtime-pieces.ts with no piece (Fastify ${require('fastify/package.json').version}, the runtime's own, logger off, same JSON), built, one process; pieces: ${PIECES.map((p) => `${p} = ${PIECE_WHAT[p]}`).join('; ')}; ${config.repeats} rounds of ${pieceSecs} s each: bare Fastify, every variant (each piece alone, then all), bare Fastify again (cost = the server's CPU time per request, from /proc/<pid>/stat, above the round's bare mean)`,
        `profile: the plain function started with --cpu-prof, 1 s warm-up then ${config.httpSecs} s of the same load; self time per function and per package, idle excluded`,
      ],
      runs: [
        `route fn req/s: ${runs(results.route.map((x) => x.rps))}`,
        `plain fn req/s: ${runs(results.plain.map((x) => x.rps))}`,
        `bare Fastify req/s: ${runs(results.bare.map((x) => x.rps))}`,
        `server CPU µs per request: route ${runs(results.route.map((x) => x.cpu))}; plain ${runs(results.plain.map((x) => x.cpu))}; bare ${runs(results.bare.map((x) => x.cpu))}`,
        ...pieceRows.map((p) => `bare + ${p.piece}: CPU µs per request ${runs(p.cpu)}; req/s ${runs(p.rps)}`),
        `bare Fastify in the piece rounds (mean of before and after): CPU µs per request ${runs(pieceRows[0].bareCpu)}`,
      ],
      appendix: profile ? [
        `CPU profile of the plain faas-js-runtime function under load: top self time (${fmt(profile.busyMs)} ms busy)`,
        '',
        ...profile.functions.map((f) => `${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`),
        '',
        'by package:',
        '',
        ...profile.packages.map((p) => `${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}`),
      ].join('\n') : undefined,
      ok: bad === 0,
      problems: bad ? [`${bad} requests failed or answered non-2xx`] : [],
    };
  } finally {
    for (const s of servers) await s.stop();
    rmSync(profileDir, { recursive: true, force: true });
  }
}

/** Lines a fixture function writes to stdout per request (its container's log), over 200 sequential requests. */
async function logLinesPerRequest(ctx: BenchContext, fixture: string): Promise<number | undefined> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [FAAS_CLI, ctx.build.js(`bench/fixtures/${fixture}/index.ts`), '--port', String(port)], {
    cwd: path.join(ROOT, 'bench/fixtures', fixture), env: ctx.functionEnv(`bench-${fixture}`), stdio: ['ignore', 'pipe', 'ignore'],
  });
  let lines = 0;
  child.stdout!.on('data', (d: Buffer) => { for (const b of d) if (b === 10) lines++; });
  try {
    await waitFor200(`http://127.0.0.1:${port}/health/readiness`, child, 30_000, 20);
    const before = lines;
    const n = 200;
    for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 200));
    return (lines - before) / n;
  } catch {
    return undefined;
  } finally {
    await stopChild(child);
  }
}
