// npm run function -- booking-queue/book-slot [--port 8081]
// One function on its own under the faas-js-runtime CLI, as its container runs it (cwd = its folder). On the
// embedded database (no DATABASE_URL) the migrations are applied and the demo data created first, so the
// function answers with real tables; the child gets the laptop defaults (PGlite, in-process bus) preloaded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { closeEmbeddedDatabase, usingEmbeddedDatabase } from './lib/laptop/embedded-db';
import { prepareDatabase } from './lib/laptop/prepare';
import { closeDb } from '../functions/shared/db';

async function main() {
  const [name, ...rest] = process.argv.slice(2);
  const dir = name && path.join(__dirname, '..', 'functions', name.replace(/^functions\//, ''));
  if (!dir || !existsSync(path.join(dir, 'index.ts'))) {
    console.error('usage: npm run function -- <system>/<function> [--port 8081]   e.g. booking-queue/book-slot');
    process.exit(2);
  }
  if (usingEmbeddedDatabase()) {
    // PGlite's files belong to one process: prepare them here, close them, then hand them to the function.
    process.env.PGLITE_DIR ??= path.join(__dirname, '..', '.data', 'pglite');
    await prepareDatabase();
    await closeDb();
    await closeEmbeddedDatabase();
  }
  const cli = path.join(__dirname, '..', 'node_modules', 'faas-js-runtime', 'bin', 'cli.js');
  const preload = path.join(__dirname, 'lib', 'laptop', 'preload.ts');
  // Tracing as the image starts it (telemetry-preload), so OTEL_* settings work here too.
  const telemetry = path.join(__dirname, '..', 'functions', 'shared', 'telemetry-preload.ts');
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '--require', telemetry, '--require', preload, cli, path.join(dir, 'index.ts'), ...rest], { cwd: dir, stdio: 'inherit', env: process.env });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
