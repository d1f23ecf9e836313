// npm run bench — thirteen benchmarks of the patient-portal functions, each against a like-for-like reference
// measured in the same run (machines are noisy: ratios travel better than absolute figures), each figure the
// median of repeated runs, each ratio next to its target. Starts what it needs itself: a fresh PostgreSQL database
// (bench_<pid>, migrated) and more of its own, the Kafka mock broker, pgbench, and the functions built as their
// containers serve them (lib/tools.ts). Prints a table and writes bench/RESULTS.md with the commit measured, the
// machine and every figure. Settings: see bench/lib/context.ts (BENCH_* environment variables); BENCH_ONLY=1,3
// runs some rows only (then RESULTS.md is left alone).
import './lib/env';
import { startOidc } from './lib/oidc';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { ensurePostgres, createDatabase, dropDatabase, startKafkaMock, type KafkaMock } from '../scripts/lib/services';
import { applyMigrations } from '../scripts/lib/migrations';
import { readConfig, type BenchContext, type Config, type Row } from './lib/context';
import { buildFunctions, ensurePgbench, type Build } from './lib/tools';
import { describeMachine, type Machine } from './lib/machine';
import { track, stopAllChildren, killAllChildrenNow, ROOT } from './lib/procs';
import { bookingThroughput } from './booking';
import { eventPipeline } from './pipeline';
import { functionOverhead } from './overhead';
import { coldStartFootprint } from './coldstart';
import { availabilityQuery } from './availability';
import { transactionOverhead } from './transactions';
import { deadLetterIntake } from './dead-letter-intake';
import { deadLetterList } from './dead-letter-list';
import { deadLetterRedrive } from './dead-letter-redrive';
import { appointmentAvailability } from './appointment-availability';
import { appointmentBooking } from './appointment-booking';
import { notifications, NOTIFICATION_ENTRIES } from './notifications';
import { resultsPipeline, RESULTS_ENTRIES } from './results';

const BENCHES: Array<{ n: number; name: string; run: (ctx: BenchContext) => Promise<Row> }> = [
  { n: 1, name: 'Booking throughput', run: bookingThroughput },
  { n: 2, name: 'Event pipeline', run: eventPipeline },
  { n: 3, name: 'Function overhead', run: functionOverhead },
  { n: 4, name: 'Cold start and footprint', run: coldStartFootprint },
  { n: 5, name: 'Availability query', run: availabilityQuery },
  { n: 6, name: 'Transactions', run: transactionOverhead },
  { n: 7, name: 'Dead-letter intake', run: deadLetterIntake },
  { n: 8, name: 'Dead-letter list', run: deadLetterList },
  { n: 9, name: 'Dead-letter redrive', run: deadLetterRedrive },
  { n: 10, name: 'Appointment availability', run: appointmentAvailability },
  { n: 11, name: 'Appointment booking under contention', run: appointmentBooking },
  { n: 12, name: 'Notifications', run: notifications },
  { n: 13, name: 'Lab results', run: resultsPipeline },
];

/** Built files the benchmarks serve (lib/tools.ts). */
const ENTRIES = [
  'functions/booking-queue/book-slot/index.ts',
  'functions/booking-queue/booking-consumer/index.ts',
  'functions/booking-queue/queue-board/index.ts',
  'functions/booking-queue/availability/index.ts',
  'bench/fixtures/hello-route/index.ts',
  'bench/fixtures/hello-plain/index.ts',
  'bench/fixtures/runtime-pieces.ts',
  'functions/dead-letter/intake/index.ts',
  'functions/dead-letter/list/index.ts',
  'functions/appointment/availability/index.ts',
  'functions/appointment/book/index.ts',
  ...NOTIFICATION_ENTRIES,
  ...RESULTS_ENTRIES,
];

/** Hard bound on the whole run; with the defaults rows 1–9 take about 8 minutes on 2 cores, rows 10 and 11 about 8 more (row 10 seeds ~700k holdings), row 13 about 10–15 more (draining its 20,000-report backlog). */
const TIME_LIMIT_MS = Number(process.env.BENCH_TIME_LIMIT_S ?? 3600) * 1000;
const RESULTS = path.join(ROOT, 'bench', 'RESULTS.md');

const log = (message: string) => process.stderr.write(`${message}\n`);

// ---------- cleanup: children, broker, databases, build dir — on success, failure, signal or time-out ----------

let adminUrl: string | undefined;
const databases: string[] = [];
let kafka: KafkaMock | undefined;
let build: Build | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllChildren().catch(() => undefined);
    await kafka?.stop().catch(() => undefined);
    if (adminUrl) for (const db of databases) await dropDatabase(adminUrl, db).catch((err) => log(`could not drop database ${db}: ${err}`));
    build?.remove();
  })();
  return cleaning;
}

async function bail(code: number, why: string): Promise<never> {
  log(why);
  const timer = setTimeout(() => process.exit(code), 15_000);
  timer.unref();
  await cleanup().catch(() => undefined);
  process.exit(code);
}

process.on('exit', () => killAllChildrenNow());
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void bail(130, `${s}: stopping the bench`));
setTimeout(() => void bail(2, `the bench ran longer than ${TIME_LIMIT_MS / 1000} s and was stopped (BENCH_TIME_LIMIT_S)`), TIME_LIMIT_MS).unref();

// ---------- output ----------

const cell = (s: string) => s.replace(/\|/g, '\\|');

const verdict = (r: Row) => (r.met === undefined ? '?' : r.met ? 'yes' : 'no');

function table(rows: Row[]): string {
  const lines = [
    '| # | benchmark | result (median) | reference, same run (median) | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.n} | ${cell(r.name)} | ${cell(r.result)} | ${cell(r.reference)} | ${cell(r.ratio)} | ${cell(r.target)} | ${verdict(r)} |`),
  ];
  return lines.join('\n');
}

/** The commit measured, and whether the working tree differs from it (bench/RESULTS.md itself aside). */
function commitMeasured(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain').stdout.split('\n').filter((l) => l.trim() && !l.endsWith('bench/RESULTS.md'));
  const subject = git('log', '-1', '--format=%s').stdout.trim();
  return `${head.stdout.trim()}${dirty.length ? ' + uncommitted changes' : ''} ("${subject}")`;
}

function details(rows: Row[]): string {
  return rows.map((r) => [
    `### ${r.n}. ${r.name}${r.ok ? '' : ' — CHECK FAILED'}`,
    '',
    ...(r.problems?.length ? [...r.problems.map((p) => `- **problem:** ${p}`), ''] : []),
    ...r.notes.map((x) => `- ${x}`),
    '',
    'Inputs:',
    '',
    ...r.inputs.map((x) => `- ${x}`),
    '',
    'Each run (the table reports the median):',
    '',
    ...r.runs.map((x) => `- ${x}`),
    ...(r.appendix ? ['', '```text', r.appendix, '```'] : []),
    '',
  ].join('\n')).join('\n');
}

function machineTable(m: Machine): string {
  return [
    '| | |',
    '|---|---|',
    `| nproc | ${m.nproc} |`,
    `| CPU | ${cell(m.cpu)} |`,
    `| memory | ${m.memory} |`,
    `| node | ${m.node} |`,
    `| PostgreSQL | ${cell(m.postgres)} |`,
    `| pgbench | ${cell(m.pgbench)} |`,
    `| kernel | ${cell(m.kernel)} |`,
    `| load average at start (1/5/15 min) | ${m.loadAverage} |`,
  ].join('\n');
}

function settings(config: Config): string {
  const names: Record<keyof Config, string> = {
    repeats: 'BENCH_REPEATS', clients: 'BENCH_CLIENTS', bookingSecs: 'BENCH_BOOKING_SECS',
    hotShare: 'BENCH_HOT_SHARE', events: 'BENCH_EVENTS', pacedSecs: 'BENCH_PACED_SECS', httpSecs: 'BENCH_HTTP_SECS',
    httpConnections: 'BENCH_HTTP_CONNECTIONS', starts: 'BENCH_STARTS', availSlots: 'BENCH_AVAIL_SLOTS',
    availBookingsPerSlot: 'BENCH_AVAIL_BOOKINGS_PER_SLOT', availQueries: 'BENCH_AVAIL_QUERIES',
    dlIntakeLetters: 'BENCH_DL_INTAKE_LETTERS', dlLetters: 'BENCH_DL_LETTERS', dlListQueries: 'BENCH_DL_LIST_QUERIES',
    apptBranches: 'BENCH_APPT_BRANCHES', apptQueries: 'BENCH_APPT_QUERIES', apptBookingSecs: 'BENCH_APPT_BOOKING_SECS',
    notifyEvents: 'BENCH_NOTIFY_EVENTS', resultsMessages: 'BENCH_RESULTS_MESSAGES', resultsBacklog: 'BENCH_RESULTS_BACKLOG',
    resultsSvip: 'BENCH_RESULTS_SVIP',
  };
  return (Object.keys(names) as Array<keyof Config>).map((k) => `${names[k]}=${config[k]}`).join(' ');
}

function failedRow(n: number, name: string, err: unknown): Row {
  const message = err instanceof Error ? err.message : String(err);
  return { n, name, result: 'FAILED', reference: '—', ratio: '—', target: '—', notes: [], inputs: [], runs: [], ok: false, problems: [message.split('\n').slice(0, 6).join(' ')] };
}

// ---------- main ----------

async function main(): Promise<number> {
  const started = new Date();
  const commit = commitMeasured();
  const config = readConfig();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => Number(s.trim())).filter(Boolean);
  const chosen = BENCHES.filter((b) => !only?.length || only.includes(b.n));

  log(`measuring ${commit}\nsetting up: PostgreSQL database, Kafka mock broker, pgbench, built functions…`);
  adminUrl = await ensurePostgres();
  const base = `bench_${process.pid}`;
  databases.push(base);
  const databaseUrl = await createDatabase(adminUrl, base);
  await applyMigrations(new PrismaPg({ connectionString: databaseUrl }));
  const probe = new pg.Client({ connectionString: databaseUrl });
  await probe.connect();
  const serverMajor = String(Math.floor(Number((await probe.query<{ v: string }>('SHOW server_version_num')).rows[0].v) / 10000));
  await probe.end();
  const pgbench = ensurePgbench(serverMajor);
  kafka = await startKafkaMock();
  track(kafka.process);
  build = await buildFunctions(ENTRIES);
  const machine = await describeMachine(databaseUrl, pgbench);
  const oidc = await startOidc();
  const brokers = kafka.brokers;

  const ctx: BenchContext = {
    config,
    adminUrl,
    databaseUrl,
    kafkaBrokers: brokers,
    build,
    pgbench,
    token: (sub, role, grants) => oidc.token(sub, role, undefined, grants),
    functionEnv: (name, overrides = {}) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: process.env.LANG,
        TMPDIR: process.env.TMPDIR,
        // As knative/base gives every function: production mode, the Secret and the ConfigMap.
        NODE_ENV: 'production',
        K_SERVICE: name,
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '10',
        ...oidc.env,
        KAFKA_BROKERS: brokers,
        PORTAL_ORIGINS: 'https://portal.medlab.example',
        LOG_LEVEL: 'info',
        ...overrides,
      };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      return env;
    },
    createDatabase: async (suffix) => {
      const name = `${base}_${suffix}`;
      databases.push(name);
      return createDatabase(adminUrl!, name);
    },
    log,
  };

  const rows: Row[] = [];
  for (const b of chosen) {
    log(`\n${b.n}. ${b.name}`);
    const t0 = performance.now();
    try {
      rows.push(await b.run(ctx));
    } catch (err) {
      log(`  failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
      rows.push(failedRow(b.n, b.name, err));
    }
    log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const tookS = (Date.now() - started.getTime()) / 1000;

  const out = [
    table(rows),
    '',
    details(rows),
  ].join('\n');
  console.log(`\n${out}`);
  console.log(`commit measured: ${commit}; ${started.toISOString()}`);
  console.log(`npm run bench took ${(tookS / 60).toFixed(1)} min (${tookS.toFixed(0)} s); machine: ${machine.nproc} × ${machine.cpu}, ${machine.memory}, node ${machine.node}`);

  if (only?.length) {
    log('BENCH_ONLY is set: bench/RESULTS.md is not rewritten');
  } else {
    writeFileSync(RESULTS, [
      '# Benchmark results',
      '',
      `Written by \`npm run bench\` (bench/run.ts) on ${started.toISOString()}; it took ${(tookS / 60).toFixed(1)} min.`,
      '',
      `Commit measured: ${commit}`,
      '',
      'Every figure below was measured by that run. Each benchmark is compared with a like-for-like reference',
      'measured in the same run, each figure is the median of repeated runs (every run is listed under the',
      'benchmark), and each ratio stands next to its target.',
      '',
      '## Machine',
      '',
      machineTable(machine),
      '',
      '## Results',
      '',
      table(rows),
      '',
      `Settings (rerun with the same values): \`${settings(config)} npm run bench\``,
      '',
      '## Details',
      '',
      details(rows),
    ].join('\n'));
    log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    log(`npm run bench failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
    await cleanup();
    process.exit(1);
  });
