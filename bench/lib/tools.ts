// Tools the bench needs besides npm packages: pgbench (PostgreSQL's own, from the Debian packages when it is
// missing and we are root, as scripts/lib/services.ts does for kcat), and the compiled bundle (tsc), which is
// what a function's container serves.
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
  /** Compiled file of a source path relative to the project root, e.g. functions/x/index.ts → <dir>/functions/x/index.js. */
  js(sourceRelative: string): string;
  remove(): void;
}

/**
 * The compiled functions, as the Dockerfile builds them (tsc, then node serves the JS): bench/tsconfig.build.json
 * (the project's compiler options; functions/ without tests, and the bench's fixtures) into a temporary folder.
 * Type errors are reported but do not stop the bench as long as tsc wrote every file it needs (tsc still emits).
 */
export function compileBundle(required: string[], warn: (message: string) => void): Build {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-build-'));
  const js = (rel: string) => path.join(dir, rel.replace(/\.ts$/, '.js'));
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', path.join(ROOT, 'bench', 'tsconfig.build.json'), '--outDir', dir], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  const missing = required.filter((f) => !existsSync(js(f)));
  if (r.status !== 0 && (missing.length || r.error)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc failed (${r.status ?? r.signal ?? r.error}):\n${((r.stdout ?? '') + (r.stderr ?? '')).slice(-3000)}`);
  }
  if (r.status !== 0) warn(`tsc reported type errors (the files were emitted; the bench goes on):\n${(r.stdout + r.stderr).slice(-2000)}`);
  // The compiled files resolve packages from the project's node_modules, as /app/node_modules in the image.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return {
    dir,
    js,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
