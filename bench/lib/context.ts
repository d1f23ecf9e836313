// What every benchmark gets from bench/run.ts, and what it hands back (one row of the table).
import type { Build } from './tools';

export interface Config {
  repeats: number;
  clients: number;
  bookingSecs: number;
  hotShare: number;
  events: number;
  pacedSecs: number;
  httpSecs: number;
  httpConnections: number;
  starts: number;
  availSlots: number;
  availBookingsPerSlot: number;
  availQueries: number;
  dlIntakeLetters: number;
  dlLetters: number;
  dlListQueries: number;
  apptBranches: number;
  apptQueries: number;
  apptBookingSecs: number;
  notifyEvents: number;
  resultsMessages: number;
  resultsBacklog: number;
  resultsSvip: number;
}

const num = (name: string, dflt: number, min = 1) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number ≥ ${min}`);
  return n;
};

/** Defaults fit `npm run bench` into about 16 minutes on 2 cores (rows 10 and 11 about half of it); each can be overridden from the environment. */
export function readConfig(): Config {
  const clients = num('BENCH_CLIENTS', 32);
  return {
    repeats: num('BENCH_REPEATS', 3),
    clients,
    bookingSecs: num('BENCH_BOOKING_SECS', 10),
    hotShare: num('BENCH_HOT_SHARE', 0.1, 0),
    events: num('BENCH_EVENTS', 2000),
    pacedSecs: num('BENCH_PACED_SECS', 5),
    httpSecs: num('BENCH_HTTP_SECS', 5),
    httpConnections: num('BENCH_HTTP_CONNECTIONS', 32),
    starts: num('BENCH_STARTS', 5),
    availSlots: num('BENCH_AVAIL_SLOTS', 100_000),
    availBookingsPerSlot: num('BENCH_AVAIL_BOOKINGS_PER_SLOT', 10),
    availQueries: num('BENCH_AVAIL_QUERIES', 100),
    dlIntakeLetters: num('BENCH_DL_INTAKE_LETTERS', 10_000),
    dlLetters: num('BENCH_DL_LETTERS', 1_000_000),
    dlListQueries: num('BENCH_DL_LIST_QUERIES', 100),
    apptBranches: num('BENCH_APPT_BRANCHES', 50),
    apptQueries: num('BENCH_APPT_QUERIES', 100),
    apptBookingSecs: num('BENCH_APPT_BOOKING_SECS', 10),
    notifyEvents: num('BENCH_NOTIFY_EVENTS', 600),
    resultsMessages: num('BENCH_RESULTS_MESSAGES', 500),
    // The backlog: an SVIP result arriving behind 20,000 standard results.
    resultsBacklog: num('BENCH_RESULTS_BACKLOG', 20_000),
    resultsSvip: num('BENCH_RESULTS_SVIP', 100),
  };
}

export interface BenchContext {
  config: Config;
  /** Admin connection (creates and drops the bench_* databases). */
  adminUrl: string;
  /** The migrated database of this run (bench_<pid>). */
  databaseUrl: string;
  kafkaBrokers: string;
  build: Build;
  pgbench: string;
  /** A bearer token from the run's OpenID Connect provider (ES256, verified through its JWKS as in production). */
  token(sub: string, role: 'patient' | 'staff' | 'service', grants?: Array<'operator' | 'phi'>): Promise<string>;
  /** Environment of a function's container (knative/base): production, info logs, Kafka, pool of 10. */
  functionEnv(name: string, overrides?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Creates bench_<pid>_<suffix>; dropped by run.ts at the end. */
  createDatabase(suffix: string): Promise<string>;
  log(message: string): void;
}

export interface Row {
  n: number;
  name: string;
  /** The measured figure (median of the runs). */
  result: string;
  /** The reference measured in the same run (median). */
  reference: string;
  ratio: string;
  /** The goal for the ratio (and any other figure the row is judged on), e.g. "≥ 0.5×". */
  target: string;
  /** Whether this run reached it (undefined: could not be judged, e.g. a figure is missing). */
  met?: boolean;
  /** Further figures: latencies, checks. */
  notes: string[];
  /** Everything needed to rerun it. */
  inputs: string[];
  /** Each run's raw figures. */
  runs: string[];
  /** Long output for RESULTS.md (e.g. EXPLAIN). */
  appendix?: string;
  /** false when a correctness check failed (the run exits non-zero). */
  ok: boolean;
  problems?: string[];
}
