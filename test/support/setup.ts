// Root hooks. Under npm test every test process (each mocha worker, or mocha itself for one file) clones
// its own database from the migrated template before its first test, so parallel workers never see each
// other's rows; scripts/test.ts drops the clones at the end. A process that cannot get its database fails
// every file it runs: a green run always means the database tests ran. Unit runs have no database. Events
// go to the in-process bus (laptop default) unless a test points a function at Kafka itself.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { closeDb } from '../../functions/shared/db';
import { useLaptopBus } from '../../functions/shared/bus';
import { settleOutbox } from '../../functions/shared/publisher';
import { memoryBus } from '../../scripts/lib/laptop/memory-bus';
import { integration, refusedReads } from './env';

let database: Promise<void> | undefined;

async function cloneDatabase(): Promise<void> {
  const admin = process.env.TEST_PG_ADMIN_URL!;
  const template = process.env.TEST_PG_TEMPLATE!;
  const name = `${template}_w${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } catch (err) {
    throw new Error(`test process ${process.pid} could not create its database ${name} from template ${template}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
}

/** In a parallel run each root suite is one file: its time goes to scripts/test.ts, which starts the slowest first next time. */
let fileStarted = 0;
function recordDuration(ctx: Mocha.Context): void {
  const dir = process.env.TEST_CLAIMS_DIR;
  const files = new Set((ctx.test?.parent?.suites ?? []).map((s) => s.file));
  const [file] = files;
  if (!dir || files.size !== 1 || !file) return;
  appendFileSync(path.join(dir, `durations-${process.pid}.jsonl`), `${JSON.stringify({ file: path.relative(process.cwd(), file), ms: Date.now() - fileStarted })}\n`);
}

useLaptopBus(memoryBus);

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    fileStarted = Date.now();
    if (!integration) return;
    database ??= cloneDatabase();
    await database;
  },
  async afterAll(this: Mocha.Context) {
    await settleOutbox();
    await closeDb();
    recordDuration(this);
    if (refusedReads.length) throw new Error(`a test read what it has no right to:\n${refusedReads.splice(0).join('\n')}`);
  },
};
