// The laptop's embedded database: PGlite, files under .data/pglite (PGLITE_DIR; "memory" for none). One
// instance per process, because PGlite's files belong to one process.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';

let pglite: PGlite | undefined;

export function usingEmbeddedDatabase(): boolean {
  return !process.env.DATABASE_URL;
}

/** A PGlite with the extensions the migrations create (btree_gist: the appointment system's exclusion constraint). */
export function newPGlite(dataDir?: string): PGlite {
  return new PGlite({ dataDir, extensions: { btree_gist } });
}

export function embeddedDataDir(): string {
  return process.env.PGLITE_DIR ?? path.join(process.cwd(), '.data', 'pglite');
}

export function embeddedDatabase(): PGlite {
  if (!pglite) {
    const dir = embeddedDataDir();
    if (dir !== 'memory') mkdirSync(dir, { recursive: true });
    pglite = newPGlite(dir === 'memory' ? undefined : dir);
  }
  return pglite;
}

export async function closeEmbeddedDatabase(): Promise<void> {
  const p = pglite;
  pglite = undefined;
  await p?.close();
}
