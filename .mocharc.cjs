// Unit and integration tests, TypeScript through tsx. scripts/test.ts (npm test) starts PostgreSQL and the
// Kafka mock broker first, passes their addresses in the environment, and names the spec files
// (so `npx mocha some/file.test.ts` runs just that file).
module.exports = {
  require: ['tsx/cjs', './test/support/env.ts', './test/support/setup.ts'],
  timeout: 30000,
  exit: true,
};
