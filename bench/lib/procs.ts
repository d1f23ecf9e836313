// Child processes of the bench: every one is registered here so it is stopped on success, on failure and on
// Ctrl-C (by its own pid, never by name). Functions run as their containers run them: the faas-js-runtime CLI
// serving the compiled function, with the function's folder (func.yaml) as working directory.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../scripts/lib/runtime/host';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FAAS_CLI = path.join(ROOT, 'node_modules', 'faas-js-runtime', 'bin', 'cli.js');

const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL whatever is still registered. */
export function killAllChildrenNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function vmRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : NaN;
}

/** CPU time a process has used so far (user + system, ms), from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time (ms) used so far by every live process of this command name (postgres: the server and its backends; kcat: the Kafka mock). */
export function cpuMsOfCommand(command: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command) total += cpuMs(Number(pid));
    } catch { /* gone meanwhile */ }
  }
  return total;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls GET url until it answers 200; resolves with the performance.now() of that answer. */
export async function waitFor200(url: string, child: ChildProcess, timeoutMs: number, pollMs = 5): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process ${child.pid} exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      /* not listening yet */
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

export interface FunctionProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Last lines the process wrote to stderr (for error messages). */
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface FunctionStart {
  /** Name for messages. */
  name: string;
  /** Compiled entry (index.js) to serve. */
  file: string;
  /** Working directory: the function's source folder, where func.yaml is. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. ['--require', 'tsx/cjs'] to serve TypeScript. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** A port of the caller's choosing (a function restarted where its callers already point); default a free one. */
  port?: number;
}

/** Starts a function under the faas-js-runtime CLI on a free loopback port and waits for /health/readiness. */
export async function startFunctionProcess(opts: FunctionStart): Promise<FunctionProcess> {
  const port = opts.port ?? await freePort();
  // BENCH_CPU_PROF_DIR=<dir>: each function process writes a V8 CPU profile there when it stops (to see where the time goes).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawnTracked(process.execPath, [...profile, ...(opts.nodeArgs ?? []), FAAS_CLI, opts.file, '--port', String(port)], {
    cwd: opts.cwd,
    env: opts.env,
    // The function's own log lines (pino on stdout) go where a container's would go: nowhere we read.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => { tail = (tail + d.toString('utf8')).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}/health/readiness`, child, opts.readyTimeoutMs ?? 30_000, 20);
  } catch (err) {
    await stopChild(child);
    throw new Error(`${opts.name} did not start: ${(err as Error).message}\n${tail}`);
  }
  return { name: opts.name, url, child, stderrTail: () => tail, stop: () => stopChild(child) };
}
