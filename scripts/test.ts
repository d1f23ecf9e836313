// npm test: starts what the tests need, then runs every mocha spec in parallel worker processes.
//   - PostgreSQL: ONE template database, migrated once; each worker clones its own database from it
//     (test/support/setup.ts), so workers never see each other's rows. Dropped at the end, clones included.
//   - Kafka: one mock broker per worker (a worker claims one from the pool when a test first asks), because
//     the tests use the real topic and consumer-group names and would steal each other's events.
//   - Chromium (Debian's), when a browser test (*.browser.test.ts) is among the files: installed once per run
//     if missing, its path handed to the tests as TEST_CHROMIUM.
// If a service cannot start, the run fails: no test is ever skipped for want of its database or broker.
//
// npm run test:unit (--unit): only *.unit.test.ts, with no PostgreSQL and no Kafka; a unit test that reads
// DATABASE_URL fails (test/support/env.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { ensureChromium, ensurePostgres, createDatabase, dropDatabase, startKafkaMock, type KafkaMock } from './lib/services';
import { applyMigrations } from './lib/migrations';

const ROOT = path.join(__dirname, '..');
const SPEC_DIRS = ['test', 'functions', 'scripts'];
const UNIT_SPECS = ['functions/**/*.unit.test.ts', 'scripts/**/*.unit.test.ts', 'test/**/*.unit.test.ts'];
const DURATIONS = path.join(ROOT, '.data', 'test-durations.json');

/** Workers: the tests mostly wait on PostgreSQL, Kafka and HTTP, so a few more than cores keeps the CPU busy. */
const JOBS = Math.max(1, Number(process.env.TEST_JOBS ?? 4));

/** Every *.test.ts under test/, functions/ and scripts/ (what mocha's globs would find), relative to the root. */
function specFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'generated') walk(rel); } else if (e.name.endsWith('.test.ts')) out.push(rel);
    }
  };
  SPEC_DIRS.forEach(walk);
  return out;
}

/**
 * Slowest first (file times of the last parallel run, in .data/), so a long file does not start last and
 * hold the run up alone. Files without a time (new, or a fresh clone) go first, cross-function tests first.
 */
function slowestFirst(files: string[]): string[] {
  const known: Record<string, number> = existsSync(DURATIONS) ? JSON.parse(readFileSync(DURATIONS, 'utf8')) : {};
  const guess = (f: string) => known[f] ?? Number.MAX_SAFE_INTEGER - SPEC_DIRS.indexOf(f.split(path.sep)[0]);
  return [...files].sort((a, b) => guess(b) - guess(a) || a.localeCompare(b));
}

/** Keeps the file times the workers wrote (setup.ts) for the next run's order. */
function saveDurations(claims: string): void {
  const known: Record<string, number> = existsSync(DURATIONS) ? JSON.parse(readFileSync(DURATIONS, 'utf8')) : {};
  for (const f of readdirSync(claims).filter((n) => n.startsWith('durations-'))) {
    for (const line of readFileSync(path.join(claims, f), 'utf8').split('\n').filter(Boolean)) {
      const { file, ms } = JSON.parse(line) as { file: string; ms: number };
      known[file] = ms;
    }
  }
  mkdirSync(path.dirname(DURATIONS), { recursive: true });
  writeFileSync(DURATIONS, `${JSON.stringify(known, null, 1)}\n`);
}

function mocha(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const bin = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', env });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
}

/** Test environment without the variables npm test hands out itself (an exported DATABASE_URL must never leak in). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DATABASE_URL', 'KAFKA_BROKERS', 'TEST_PG_ADMIN_URL', 'TEST_PG_TEMPLATE', 'TEST_KAFKA_POOL', 'TEST_CLAIMS_DIR', 'TEST_KAFKA_BROKERS', 'TEST_CHROMIUM']) delete env[k];
  return env;
}

async function unit(extra: string[]): Promise<number> {
  const args = extra.some((a) => !a.startsWith('-')) ? extra : [...UNIT_SPECS, ...extra];
  return mocha(args, cleanEnv());
}

/** Drops the template and every clone made from it (workers may end without dropping theirs). */
async function dropAll(admin: string, template: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  let names: string[];
  try {
    names = (await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${template}%`])).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
  for (const name of names) await dropDatabase(admin, name);
}

/** Makes the migrated database a template nobody connects to: CREATE DATABASE … TEMPLATE needs it idle. */
async function sealTemplate(admin: string, template: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`ALTER DATABASE "${template}" WITH ALLOW_CONNECTIONS false`);
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [template]);
  } finally {
    await client.end();
  }
}

async function integration(extra: string[]): Promise<number> {
  const files = extra.filter((a) => !a.startsWith('-'));
  const jobs = files.length ? Math.min(JOBS, files.length) : JOBS;
  const admin = await ensurePostgres();
  const template = `portal_test_${process.pid}`;
  const claims = mkdtempSync(path.join(os.tmpdir(), 'portal-test-claims-'));
  const brokers: KafkaMock[] = [];
  try {
    const url = await createDatabase(admin, template);
    await applyMigrations(new PrismaPg({ connectionString: url }));
    await sealTemplate(admin, template);
    console.log(`PostgreSQL: template database ${template} (migrated); each worker clones its own`);
    for (let i = 0; i < jobs; i++) brokers.push(await startKafkaMock());
    console.log(`Kafka mock brokers: ${brokers.map((b) => b.brokers).join(' ')} (one per worker)`);
    const chromium = (files.length ? files : specFiles()).some((f) => f.endsWith('.browser.test.ts')) ? ensureChromium() : undefined;
    if (chromium) console.log(`Chromium: ${chromium} (browser tests)`);

    const args = [...(files.length ? [] : slowestFirst(specFiles())), ...extra];
    // One file runs in-process (no worker pool to start); more run in parallel workers.
    const parallel = files.length === 1 ? [] : ['--parallel', '--jobs', String(jobs)];
    const code = await mocha([...parallel, ...args], {
      ...cleanEnv(),
      TEST_PG_ADMIN_URL: admin,
      TEST_PG_TEMPLATE: template,
      TEST_KAFKA_POOL: brokers.map((b) => b.brokers).join(' '),
      TEST_CLAIMS_DIR: claims,
      ...(chromium ? { TEST_CHROMIUM: chromium } : {}),
    });
    saveDurations(claims);
    return code;
  } finally {
    await Promise.all(brokers.map((b) => b.stop()));
    await dropAll(admin, template).catch((err) => console.error(`npm test: could not drop the test databases ${template}*: ${err.message}`));
    rmSync(claims, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
const run = argv.includes('--unit') ? unit(argv.filter((a) => a !== '--unit')) : integration(argv);
run.then((code) => process.exit(code), (err) => {
  console.error(`npm test could not start its services: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
