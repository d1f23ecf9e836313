// npm run db:migrate            apply pending migrations (PostgreSQL at DATABASE_URL, else the embedded PGlite)
// npm run db:migration -- NAME  write a new migration from the schema diff (offline)
// npm run db:status             list applied migrations
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations, createMigration } from './lib/migrations';
import { embeddedDatabase, embeddedDataDir } from './lib/laptop/embedded-db';

async function main() {
  const [command, name] = process.argv.slice(2);
  if (command === 'migration') {
    if (!name) throw new Error('usage: npm run db:migration -- <name>');
    const dir = await createMigration(name);
    console.log(dir ? `wrote ${dir}/migration.sql` : 'the schema matches the migrations; nothing to write');
    return;
  }
  if (command === 'migrate') {
    const url = process.env.DATABASE_URL;
    const factory = url ? new PrismaPg({ connectionString: url }) : new PrismaPGlite(embeddedDatabase());
    const applied = await applyMigrations(factory);
    const where = url ? url.replace(/:[^:@/]*@/, ':***@') : `embedded PGlite at ${embeddedDataDir()}`;
    console.log(applied.length ? `applied ${applied.join(', ')} to ${where}` : `${where} is up to date`);
    if (!url) await embeddedDatabase().close();
    return;
  }
  throw new Error('usage: db.ts migrate | migration <name>');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
