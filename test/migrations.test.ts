import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { applyMigrations, pendingSchemaSql, MIGRATIONS_DIR } from '../scripts/lib/migrations';
import { createDatabase, dropDatabase } from '../scripts/lib/services';

const committed = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const checksum = (name: string) => createHash('sha256').update(readFileSync(path.join(MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex');

describe('migrations (offline WASM schema engine)', () => {
  it('the committed migrations describe the current prisma/schema.prisma (no migration forgotten)', async () => {
    assert.equal(await pendingSchemaSql(), '');
  }).timeout(120_000); // CPU-bound WASM schema diff: 22 s alone, twice that beside parallel workers on 2 cores

  it('apply to a fresh PGlite database and record _prisma_migrations as prisma migrate deploy does', async () => {
    const pglite = new PGlite();
    const applied = await applyMigrations(new PrismaPGlite(pglite));
    assert.deepEqual(applied, committed);
    const rows = (await pglite.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name')).rows;
    assert.deepEqual(rows.map((r) => r.migration_name), committed);
    for (const r of rows) {
      assert.equal(r.checksum, checksum(r.migration_name));
      assert.ok(r.finished_at, 'finished_at is set');
      assert.equal(r.applied_steps_count, 1);
    }
    const tables = (await pglite.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
    for (const t of ['slot', 'booking', 'ticket', 'outbox_event', 'inbox_event', 'dead_letter']) assert.ok(tables.includes(t), `${t} exists`);
    assert.deepEqual(await applyMigrations(new PrismaPGlite(pglite)), [], 'a second run applies nothing');
    await pglite.close();
  });

  it('apply to a fresh PostgreSQL database, once', async () => {
    const admin = process.env.TEST_PG_ADMIN_URL;
    assert.ok(admin, 'TEST_PG_ADMIN_URL is set by npm test');
    const name = `portal_migrate_${process.pid}`;
    const url = await createDatabase(admin, name);
    try {
      assert.deepEqual(await applyMigrations(new PrismaPg({ connectionString: url })), committed);
      assert.deepEqual(await applyMigrations(new PrismaPg({ connectionString: url })), []);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('SELECT migration_name, checksum FROM _prisma_migrations ORDER BY migration_name');
      await client.end();
      assert.deepEqual(rows.map((r) => [r.migration_name, r.checksum]), committed.map((n) => [n, checksum(n)]));
    } finally {
      await dropDatabase(admin, name);
    }
  });
});
