// The services the tests need, started by the project itself: a PostgreSQL database of its own, and a
// Kafka wire-protocol broker (librdkafka's mock cluster, shipped in Debian's kcat).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import pg from 'pg';

export const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects to PostgreSQL, starting the machine's cluster if it is installed but stopped. */
export async function ensurePostgres(adminUrl = process.env.TEST_PG_ADMIN_URL ?? DEFAULT_ADMIN_URL): Promise<string> {
  if (await canConnect(adminUrl)) return adminUrl;
  for (const cmd of [['pg_ctlcluster', '15', 'main', 'start'], ['service', 'postgresql', 'start']]) {
    spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
    for (let i = 0; i < 20; i++) {
      if (await canConnect(adminUrl)) return adminUrl;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`PostgreSQL is not reachable at ${adminUrl.replace(/:[^:@/]*@/, ':***@')} and could not be started`);
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * A command-line tool the project needs from Debian's packages: found where `find` looks, or installed with
 * apt-get (when running as root; `apt-get update` once if the first attempt fails), or a clear error.
 */
export function ensureDebianTool(tool: string, pkg: string, why: string, find: () => string | undefined): string {
  let found = find();
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`installing ${tool} (Debian package ${pkg}) ${why}…\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (spawnSync('apt-get', ['install', '-y', '-q', pkg], { stdio: 'ignore', env }).status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', env });
      spawnSync('apt-get', ['install', '-y', '-q', pkg], { stdio: 'ignore', env });
    }
    found = find();
  }
  if (!found) throw new Error(`${tool} is not installed and could not be installed (apt-get install ${pkg})`);
  return found;
}

/** The first of `paths` that exists, else what the shell finds for `commands`. */
export function findCommand(paths: string[], commands: string[]): string | undefined {
  for (const p of paths) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', commands.map((c) => `command -v ${c}`).join(' || ')], { encoding: 'utf8' });
  return which.stdout.trim() || undefined;
}

/** kcat, whose librdkafka carries the mock cluster the tests use as their Kafka broker. */
export function ensureKcat(): string {
  return ensureDebianTool('kcat', 'kcat', 'for the Kafka mock broker', () => findCommand(['/usr/bin/kcat', '/usr/local/bin/kcat', '/usr/bin/kafkacat'], ['kcat', 'kafkacat']));
}

export interface KafkaMock {
  brokers: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts librdkafka's mock cluster through kcat and resolves with its bootstrap address. */
export async function startKafkaMock(brokers = 1): Promise<KafkaMock> {
  const kcat = ensureKcat();
  const child = spawn(kcat, ['-b', 'localhost:9092', '-X', `test.mock.num.brokers=${brokers}`, '-d', 'mock', '-C', '-t', '__mock_warmup', '-o', 'end', '-u', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Kafka mock broker did not report its address within 20 s')), 20_000);
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      const m = /bootstrap\.servers=(\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
      // Keep reading (and discarding) the debug stream so kcat never blocks on a full pipe.
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited (${code}) before the mock broker was up`));
    });
  });
  return {
    brokers: address,
    process: child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

/** Debian's chromium, the browser the browser tests drive (playwright-core never downloads one of its own). */
export function ensureChromium(): string {
  return ensureDebianTool('chromium', 'chromium', 'for the browser tests', () => findCommand(['/usr/bin/chromium'], ['chromium']));
}

/** kubectl (for `kubectl kustomize`). */
export function ensureKubectl(): string {
  return ensureDebianTool('kubectl', 'kubectl', 'to render the kustomize overlays', () => findCommand([], ['kubectl']));
}
