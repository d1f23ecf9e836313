// A PostgreSQL instance of the test's own (initdb into a temp dir, the machine's binaries), so a test may
// stop and restart it without touching the database the rest of the suite uses. PostgreSQL refuses to run
// as root: as root, its commands run as the postgres OS user (runuser), who owns the temp dir.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../scripts/lib/runtime/host';

const run = promisify(execFile);

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${base} (initdb, pg_ctl)`);
  return path.join(base, versions[0], 'bin');
}

export class PrivatePostgres {
  readonly dir: string;
  readonly data: string;
  readonly logFile: string;
  private readonly bin = binDir();
  private readonly asRoot = process.getuid?.() === 0;
  port = 0;

  /** Safety net: if the test process ends without its after() hooks (mocha --exit), stop and remove anyway. */
  private readonly reap = () => {
    if (this.running) {
      const file = path.join(this.bin, 'pg_ctl');
      const args = ['-D', this.data, '-m', 'immediate', '-w', '-t', '20', 'stop'];
      spawnSync(this.asRoot ? 'runuser' : file, this.asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { cwd: this.dir, stdio: 'ignore', timeout: 30_000 });
    }
    rmSync(this.dir, { recursive: true, force: true });
  };

  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'faults-pg-'));
    this.data = path.join(this.dir, 'data');
    this.logFile = path.join(this.dir, 'postgres.log');
    process.once('exit', this.reap);
  }

  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Runs a PostgreSQL program (as the postgres user when we are root), bounded. */
  private async pg(program: string, args: string[], timeoutMs = 60_000): Promise<string> {
    const file = path.join(this.bin, program);
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      const { stdout, stderr } = await run(cmd, argv, { cwd: this.dir, timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
      return stdout + stderr;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${this.log()}`);
    }
  }

  log(): string {
    try { return readFileSync(this.logFile, 'utf8').slice(-3000); } catch { return ''; }
  }

  /** initdb, then start on a free loopback port. */
  async init(): Promise<this> {
    if (this.asRoot) chownSync(this.dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
    await this.pg('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    this.port = await freePort();
    await this.start();
    return this;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`, `-k ${this.dir}`, '-c listen_addresses=127.0.0.1',
      // A throwaway instance: durability is not what is tested (a fast shutdown still writes a clean checkpoint).
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=50',
    ].join(' ');
    await this.pg('pg_ctl', ['-D', this.data, '-l', this.logFile, '-o', options, '-w', '-t', '60', 'start']);
  }

  /** Stops the server: fast (active sessions are terminated, as in a failover) or immediate. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  get running(): boolean {
    return existsSync(path.join(this.data, 'postmaster.pid'));
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Stops the server if it runs and removes every file; safe to call twice and after a failed init. */
  async destroy(): Promise<void> {
    process.off('exit', this.reap);
    if (this.running) await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
