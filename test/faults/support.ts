// Helpers for the fault tests: functions started as child processes under the faas-js-runtime CLI (as their
// containers start them), HTTP calls that can never hang, and the problem+json check every error must pass.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually } from '../support/fixtures';

export const ROOT = path.resolve(__dirname, '..', '..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));


export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call with a hard bound: a hang becomes a failure naming the call, never a stuck test. */
export async function request<T = any>(url: string, init: {
  method?: string; token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number;
} = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | Buffer | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const method = init.method ?? (body !== undefined ? 'POST' : 'GET');
  const timeoutMs = init.timeoutMs ?? 30_000;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    throw new Error(`${method} ${url} failed: ${e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${e.message}${e.cause ? ` (${e.cause.message})` : ''}`}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** An error answer as RFC 9457 says: problem+json, with the same status in the body and a title. */
export function assertProblem(res: Answer, what: string): void {
  const type = res.headers.get('content-type') ?? '';
  assert.match(type, /^application\/problem\+json/, `${what}: ${res.status} answered ${type || 'no content-type'}: ${res.text.slice(0, 300)}`);
  assert.ok(res.body && typeof res.body === 'object', `${what}: the problem body is not JSON: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.status, res.status, `${what}: body.status ${res.body.status} differs from the HTTP status ${res.status}`);
  assert.equal(typeof res.body.title, 'string', `${what}: the problem has no title: ${res.text.slice(0, 300)}`);
  assert.ok(res.body.title.length > 0, `${what}: the problem has an empty title`);
}

/** A function started on its own by the faas-js-runtime CLI, in its folder, as its container starts it. */
export class CliFunction {
  readonly url: string;
  private child?: ChildProcess;
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private exitPromise?: Promise<void>;
  private log = '';
  private errorLines: string[] = [];

  constructor(readonly functionDir: string, readonly port: number, private readonly env: NodeJS.ProcessEnv = {}) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined { return this.child?.pid; }
  get running(): boolean { return !!this.child && !this.exitInfo; }
  get exit() { return this.exitInfo; }
  /** The last lines the function wrote (for failure messages). */
  output(): string { return this.log.slice(-4000); }
  /** Lines the function logged at error level or above (pino levels 50, 60), the first 20. */
  errors(): string[] { return this.errorLines; }

  /** Starts the process and resolves once /health/readiness answers 200. */
  async start(readyTimeoutMs = 60_000): Promise<this> {
    if (this.running) throw new Error(`${this.functionDir} is already running`);
    this.exitInfo = undefined;
    const dir = path.join(ROOT, this.functionDir);
    const child = spawn(process.execPath, [
      // The laptop defaults, as `npm run function` preloads them: events go to an in-process bus unless KAFKA_BROKERS is set.
      '--require', 'tsx/cjs', '--require', path.join(ROOT, 'scripts/lib/laptop/preload.ts'), path.join(ROOT, 'node_modules/faas-js-runtime/bin/cli.js'), path.join(dir, 'index.ts'), '--port', String(this.port),
    ], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: process.env.FAULTS_CHILD_LOG_LEVEL ?? 'warn', FUNC_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let partial = '';
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.log = (this.log + text).slice(-20_000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (/"level":(50|60)\b/.test(line) && this.errorLines.length < 20) this.errorLines.push(line.slice(0, 4000));
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    // Safety net: if the test process ends without its after() hooks (mocha --exit), the child goes with it.
    const reap = () => { if (!this.exitInfo) child.kill('SIGKILL'); };
    process.once('exit', reap);
    this.exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      process.off('exit', reap);
      resolve();
    }));
    await eventually(async () => {
      if (this.exitInfo) throw new Error(`${this.functionDir} exited (${JSON.stringify(this.exitInfo)}) before it was ready:\n${this.output()}`);
      const r = await fetch(`${this.url}/health/readiness`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return r?.ok;
    }, `${this.functionDir} to be ready on port ${this.port}`, readyTimeoutMs, 150);
    return this;
  }

  /** Sends a signal and waits (bounded) for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    child.kill(signal);
    const gone = await Promise.race([this.exitPromise!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!gone) {
      child.kill('SIGKILL');
      await Promise.race([this.exitPromise, sleep(5000)]);
    }
  }
}

/** Deterministic pseudo-random numbers (mulberry32): the same seed gives the same cases on every run. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    string: (length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') => Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
    uuid: () => {
      const h = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
      h[12] = '4';
      h[16] = '89ab'[Math.floor(next() * 4)];
      const s = h.join('');
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    },
  };
}
