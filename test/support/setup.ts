// Root hooks: every test run talks to a real PostgreSQL database prepared by scripts/test.ts. Without it
// the run fails at once instead of skipping: a green run always means the database tests ran. Events go to
// the in-process bus (laptop default) unless a test points a function at Kafka itself.
import { closeDb } from '../../functions/shared/db';
import { useLaptopBus } from '../../functions/shared/bus';
import { settleOutbox } from '../../functions/shared/publisher';
import { memoryBus } from '../../scripts/lib/laptop/memory-bus';

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL and Kafka for them');
}
useLaptopBus(memoryBus);

export const mochaHooks = {
  async afterAll() {
    await settleOutbox();
    await closeDb();
  },
};
