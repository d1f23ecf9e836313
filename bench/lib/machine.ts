// What the figures were measured on, read from the machine itself.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';

export interface Machine {
  nproc: string;
  cpu: string;
  memory: string;
  node: string;
  postgres: string;
  pgbench: string;
  kernel: string;
  loadAverage: string;
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info) ?? /^Hardware\s*:\s*(.+)$/m.exec(info);
    return m ? m[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function memTotal(): string {
  try {
    const m = /^MemTotal:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return `${(Number(m[1]) / 1024 / 1024).toFixed(1)} GiB`;
  } catch { /* fall through */ }
  return `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
}

export async function describeMachine(databaseUrl: string, pgbenchPath: string): Promise<Machine> {
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism());
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let postgres: string;
  try {
    postgres = (await client.query<{ version: string }>('SELECT version()')).rows[0].version;
  } finally {
    await client.end();
  }
  const pgbench = spawnSync(pgbenchPath, ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  return {
    nproc,
    cpu: cpuModel(),
    memory: memTotal(),
    node: process.version,
    postgres,
    pgbench,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
