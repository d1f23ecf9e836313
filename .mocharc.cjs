// Unit and integration tests, TypeScript through tsx. scripts/test.ts (npm test) starts PostgreSQL (one
// migrated template database) and Kafka mock brokers first and passes them in the environment; env.ts and
// setup.ts give each test process its own database and broker. The spec files are named on the command line
// (so `npx mocha some/file.unit.test.ts` runs just that file, with no services).
module.exports = {
  require: ['tsx/cjs', './test/support/env.ts', './test/support/setup.ts'],
  timeout: 30000,
  exit: true,
};
