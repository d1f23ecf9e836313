// Tools the bench needs besides npm packages: pgbench (PostgreSQL's own, from the Debian packages when it is
// missing and we are root, as scripts/lib/services.ts does for kcat), and the built functions, which are what a
// function's container serves.
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './procs';
import { ensureDebianTool, findCommand } from '../../scripts/lib/services';
import { bundle } from '../../scripts/build';

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
