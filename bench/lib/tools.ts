// Tools the bench needs besides npm packages: pgbench (PostgreSQL's own, from the Debian packages when it is
// missing and we are root, as scripts/lib/services.ts does for kcat), and the built functions, which are what a
// function's container serves.
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './procs';
import { ensureDebianTool, findCommand } from '../../scripts/lib/services';
import { bundle } from '../../scripts/build';
import { exec } from './exec';

function pgbenchPath(): string | undefined {
  let versioned: string[] = [];
  try {
    versioned = readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`);
  } catch { /* no PostgreSQL install here */ }
  return findCommand(['/usr/bin/pgbench', ...versioned], ['pgbench']);
}

/** pgbench, installed from Debian's packages (postgresql-<major> ships it) when missing and we may. */
export function ensurePgbench(serverMajor: string): string {
  return ensureDebianTool('pgbench', `postgresql-${serverMajor}`, 'for the booking benchmark\'s reference', pgbenchPath);
}

export interface Build {
  dir: string;
  /** Built file of a source path relative to the project root: functions/<system>/<fn>/index.ts → <dir>/functions/<system>/<fn>/index.js (fixtures: bench/fixtures/… the same way). */
  js(sourceRelative: string): string;
  remove(): void;
}

/**
 * The functions as production builds them (`npm run build`: one esbuild bundle per function, scripts/build.ts),
 * plus the bench's fixtures bundled the same way, into a temporary folder laid out as
 * <dir>/functions/<system>/<fn>/index.js (and <dir>/bench/fixtures/…). Every row measures what this returns.
 */
export async function buildFunctions(entries: string[]): Promise<Build> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-build-'));
  const js = (rel: string) => path.join(dir, rel.replace(/\.ts$/, '.js'));
  try {
    await bundle(entries, dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the build failed: ${(err as Error).message}`);
  }
  const missing = entries.filter((f) => !existsSync(js(f)));
  if (missing.length) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the build did not produce ${missing.join(', ')}`);
  }
  // The built files resolve packages from the project's node_modules, as /app/node_modules in the image.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return {
    dir,
    js,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** pgbench's connection arguments, environment and database name for a database URL. */
export function pgConnArgs(databaseUrl: string): { args: string[]; env: NodeJS.ProcessEnv; db: string } {
  const u = new URL(databaseUrl);
  return {
    args: ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')],
    env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password), PGAPPNAME: 'portal-bench' },
    db: u.pathname.slice(1),
  };
}

export interface PgbenchRun {
  tps: number;
  /** Transactions processed. */
  tx: number;
  /** Average latency, ms (NaN when pgbench did not say). */
  latency: number;
  /** Transactions that failed (pgbench 15+ reports them; 0 when it does not say). */
  failed: number;
}

/** Runs a custom pgbench script for `secs` seconds with `clients` clients (-j 2, no vacuum); throws when pgbench fails. */
export async function runPgbench(pgbench: string, databaseUrl: string, opts: { mode: string; clients: number; secs: number; scriptFile: string; defines: Record<string, string> }): Promise<PgbenchRun> {
  const conn = pgConnArgs(databaseUrl);
  const defines = Object.entries(opts.defines).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const out = await exec(pgbench, [...conn.args, '-n', '-M', opts.mode, '-c', String(opts.clients), '-j', '2', '-T', String(opts.secs), '-f', opts.scriptFile, ...defines, conn.db], {
    env: conn.env, timeoutMs: opts.secs * 1000 + 120_000,
  });
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out.stdout);
  const processed = /number of transactions actually processed: (\d+)/.exec(out.stdout);
  if (out.code !== 0 || !m || !processed) throw new Error(`pgbench failed (${out.code}): ${out.stderr.slice(-2000)}${out.stdout.slice(-1000)}`);
  const lat = /latency average = ([\d.]+) ms/.exec(out.stdout);
  const failed = /number of failed transactions: (\d+)/.exec(out.stdout);
  return { tps: Number(m[1]), tx: Number(processed[1]), latency: lat ? Number(lat[1]) : NaN, failed: failed ? Number(failed[1]) : 0 };
}
