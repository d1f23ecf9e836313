import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses this (every file of the folder, one per system); migrations run through scripts/db.ts (WASM schema engine, offline).
export default defineConfig({
  schema: 'prisma/schema',
  migrations: { path: 'prisma/migrations' },
});
