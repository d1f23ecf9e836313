// Root hooks: every test run talks to a real PostgreSQL database prepared by scripts/test.ts. Without it
// the run fails at once instead of skipping: a green run always means the database tests ran.
import { closeDb } from '../../functions/shared/db';
import { settleOutbox } from '../../functions/shared/outbox';

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL and Kafka for them');
}

export const mochaHooks = {
  async afterAll() {
    await settleOutbox();
    await closeDb();
  },
};
