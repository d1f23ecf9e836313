// Tools the bench needs besides npm packages: pgbench (PostgreSQL's own, from the Debian packages when it is
// missing and we are root, as scripts/lib/services.ts does for kcat), and the built functions, which are what a
// function's container serves.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './procs';
import { ensureDebianTool, findCommand } from '../../scripts/lib/services';

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
 * The functions as production builds them, plus the bench's fixtures built the same way, into a temporary folder
 * laid out as <dir>/functions/<system>/<fn>/index.js (and <dir>/bench/fixtures/…). Every row measures what this
 * returns, so this is the one place to change when the production build changes (e.g. one bundled file per
 * function from `npm run build`): build `entries` that way and keep the layout.
 * Today: tsc with the project's compiler options (bench/tsconfig.build.json: functions/ without tests, and the
 * fixtures), as the Dockerfile runs it. Type errors are reported but do not stop the bench as long as every
 * entry was emitted (tsc still emits).
 */
export function buildFunctions(entries: string[], warn: (message: string) => void): Build {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-build-'));
  const js = (rel: string) => path.join(dir, rel.replace(/\.ts$/, '.js'));
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', path.join(ROOT, 'bench', 'tsconfig.build.json'), '--outDir', dir], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  const missing = entries.filter((f) => !existsSync(js(f)));
  if (r.status !== 0 && (missing.length || r.error)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc failed (${r.status ?? r.signal ?? r.error}):\n${((r.stdout ?? '') + (r.stderr ?? '')).slice(-3000)}`);
  }
  if (missing.length) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the build did not produce ${missing.join(', ')}`);
  }
  if (r.status !== 0) warn(`tsc reported type errors (the files were emitted; the bench goes on):\n${(r.stdout + r.stderr).slice(-2000)}`);
  // The built files resolve packages from the project's node_modules, as /app/node_modules in the image.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return {
    dir,
    js,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
