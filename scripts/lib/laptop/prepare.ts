// The database a laptop starts with: migrations applied (embedded PGlite, or PostgreSQL at DATABASE_URL) and,
// unless SEED_DEMO=false, the demo branches, services and slots, and the demo clinic's resources and visit
// types, in an empty one. npm start and npm run
// function both begin here.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations } from '../migrations';
import { seedDemoClinic, seedDemoData } from '../seed';
import { useLaptopDefaults } from './defaults';
import { embeddedDatabase, usingEmbeddedDatabase } from './embedded-db';

export async function prepareDatabase(): Promise<{ applied: string[]; seededSlots?: number }> {
  useLaptopDefaults();
  const url = process.env.DATABASE_URL;
  const applied = await applyMigrations(usingEmbeddedDatabase() ? new PrismaPGlite(embeddedDatabase()) : new PrismaPg({ connectionString: url! }));
  if (process.env.SEED_DEMO === 'false') return { applied };
  const seed = await seedDemoData();
  await seedDemoClinic();
  return { applied, seededSlots: seed.seeded ? seed.slots : undefined };
}
