// npm run function -- booking-queue/book-slot [--port 8081]
// One function on its own under the faas-js-runtime CLI, as its container runs it (cwd = its folder).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const [name, ...rest] = process.argv.slice(2);
const dir = name && path.join(__dirname, '..', 'functions', name.replace(/^functions\//, ''));
if (!dir || !existsSync(path.join(dir, 'index.ts'))) {
  console.error('usage: npm run function -- <system>/<function> [--port 8081]   e.g. booking-queue/book-slot');
  process.exit(2);
}
const cli = path.join(__dirname, '..', 'node_modules', 'faas-js-runtime', 'bin', 'cli.js');
const child = spawn(process.execPath, ['--require', 'tsx/cjs', cli, path.join(dir, 'index.ts'), ...rest], { cwd: dir, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
