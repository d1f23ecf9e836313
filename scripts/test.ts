// npm test: starts what the tests need — a fresh PostgreSQL database (migrated) and the Kafka mock
// broker — then runs every mocha spec against them. If a service cannot start, the run fails: no test
// is ever skipped for want of its database or broker.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { ensurePostgres, createDatabase, dropDatabase, startKafkaMock, type KafkaMock } from './lib/services';
import { applyMigrations } from './lib/migrations';

const SPECS = ['functions/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'];

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  const admin = await ensurePostgres();
  const dbName = `portal_test_${process.pid}`;
  const databaseUrl = await createDatabase(admin, dbName);
  await applyMigrations(new PrismaPg({ connectionString: databaseUrl }));
  console.log(`PostgreSQL: database ${dbName} (migrated)`);

  let kafka: KafkaMock | undefined;
  try {
    kafka = await startKafkaMock();
    console.log(`Kafka mock broker: ${kafka.brokers}`);
    const mocha = path.join(__dirname, '..', 'node_modules', 'mocha', 'bin', 'mocha.js');
    const args = extra.some((a) => !a.startsWith('-')) ? extra : [...SPECS, ...extra];
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, TEST_PG_ADMIN_URL: admin, TEST_KAFKA_BROKERS: kafka.brokers };
    delete env.KAFKA_BROKERS;
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [mocha, ...args], { stdio: 'inherit', env });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    return code;
  } finally {
    await kafka?.stop();
    await dropDatabase(admin, dbName).catch(() => undefined);
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(`npm test could not start its services: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
