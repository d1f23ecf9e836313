// Loaded before anything else so modules read these when they initialise.
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';

process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'test';

// What a test process may read of the services. npm test (scripts/test.ts) passes a template database and
// a pool of Kafka brokers: this process gets its own database in a root hook (setup.ts) and claims its own
// broker the first time a test asks for TEST_KAFKA_BROKERS. Without them (npm run test:unit, or mocha run
// by hand) there is no database at all: reading DATABASE_URL throws instead of quietly falling back to the
// embedded PGlite, so a unit test that touches the database fails loudly.
const real = process.env;
export const integration = Boolean(real.TEST_PG_TEMPLATE);
if (!integration) {
  delete real.DATABASE_URL;
  delete real.TEST_KAFKA_BROKERS;
}

/** Reads refused so far; setup.ts fails the file even if the code that read swallowed the error. */
export const refusedReads: string[] = [];

function refuse(key: string): never {
  const why = integration
    ? `before npm test gave this worker its database: read it inside a test or hook, never when a module loads`
    : `by a test run without npm test's services: unit tests (*.unit.test.ts, npm run test:unit) have no database or broker; integration tests run with npm test`;
  const err = new Error(`${key} was read ${why}`);
  refusedReads.push(`${err.message}\n${err.stack?.split('\n').slice(2, 6).join('\n')}`);
  throw err;
}

/** One broker of npm test's pool for this process, claimed atomically (a claim file per broker). */
function claimBroker(): string {
  const pool = (real.TEST_KAFKA_POOL ?? '').split(' ').filter(Boolean);
  for (const [i, brokers] of pool.entries()) {
    try {
      closeSync(openSync(path.join(real.TEST_CLAIMS_DIR!, `kafka-${i}`), 'wx'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    real.TEST_KAFKA_BROKERS = brokers;
    return brokers;
  }
  throw new Error(`no Kafka mock broker left for test process ${process.pid}: npm test started ${pool.length}, one per worker`);
}

const SERVICES = new Set(['DATABASE_URL', 'TEST_PG_ADMIN_URL', 'TEST_KAFKA_BROKERS']);

process.env = new Proxy(real, {
  get(target, key) {
    if (typeof key === 'string' && SERVICES.has(key) && target[key] === undefined) {
      if (key === 'TEST_KAFKA_BROKERS' && integration) return claimBroker();
      refuse(key);
    }
    return Reflect.get(target, key);
  },
  // Plain assignment on the real object: process.env refuses the partial descriptor a Proxy's default would pass.
  set(target, key, value) {
    (target as Record<string | symbol, unknown>)[key] = value;
    return true;
  },
});
