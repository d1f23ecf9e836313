// Unit and integration tests, TypeScript through tsx. scripts/test.ts (npm test) starts PostgreSQL and the
// Kafka mock broker first and passes their addresses in the environment.
module.exports = {
  require: ['tsx/cjs', './test/support/env.ts', './test/support/setup.ts'],
  spec: ['functions/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
  timeout: 30000,
  exit: true,
};
