// Migrations without Prisma's native schema engine: the same engine compiled to WASM
// (@prisma/schema-engine-wasm) driven through a driver adapter. applyMigrations records each migration in
// _prisma_migrations exactly as `prisma migrate deploy` does, so either tool can take over a database.
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, DriverAdapterError } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { newPGlite } from './laptop/embedded-db';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The Prisma schema: a folder, one .prisma file per system plus schema.prisma (generator and datasource). */
export const SCHEMA_DIR = path.join(ROOT, 'prisma', 'schema');
export const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');

type AdapterFactory = Parameters<typeof bindMigrationAwareSqlAdapterFactory>[0];

let wasmModule: Promise<any> | undefined;

/** Loads the WASM engine by hand, so Node 20 needs no --experimental-wasm-modules flag. */
function loadWasm(): Promise<any> {
  wasmModule ??= (async () => {
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bg = await import(bgPath);
    const bytes = await readFile(path.join(path.dirname(bgPath), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
    return bg;
  })();
  return wasmModule;
}

const noFilter = { externalTables: [], externalEnums: [] };

type SchemaFile = { path: string; content: string };

/** Every .prisma file of the schema folder, in name order, so the engine sees one schema whatever the folder. */
export async function schemaFiles(): Promise<SchemaFile[]> {
  const names = (await readdir(SCHEMA_DIR)).filter((n) => n.endsWith('.prisma')).sort();
  return Promise.all(names.map(async (n) => ({ path: n, content: await readFile(path.join(SCHEMA_DIR, n), 'utf8') })));
}

type Adapter = Awaited<ReturnType<AdapterFactory['connect']>>;

/**
 * A migration script runs as one simple query, as Prisma's native engine sends it, so PostgreSQL applies it
 * in one implicit transaction: whole or not at all. The adapters' own executeScript does not: adapter-pg
 * splits the script at every ';' (comments and string literals included) and runs the pieces one by one on
 * its pool, and pglite-prisma-adapter does not await the script, so its errors never reach the engine.
 */
function wholeScripts(factory: AdapterFactory): AdapterFactory {
  const wrap = (adapter: Adapter): Adapter => {
    // adapter-pg hands out its pg.Pool; pglite-prisma-adapter keeps its PGlite in `client`.
    const driver = (adapter as { underlyingDriver?: () => unknown }).underlyingDriver?.() ?? (adapter as unknown as { client: unknown }).client;
    const run = driver as { exec?: (sql: string) => Promise<unknown>; query?: (sql: string) => Promise<unknown> };
    if (typeof run.exec !== 'function' && typeof run.query !== 'function') return adapter;
    return Object.assign(Object.create(adapter), {
      async executeScript(script: string) {
        try {
          await (typeof run.exec === 'function' ? run.exec(script) : run.query!(script));
        } catch (err) {
          const e = err as { code?: string; severity?: string; message: string; detail?: string; column?: string; hint?: string };
          if (!e.code) throw err;
          throw new DriverAdapterError({ kind: 'postgres', code: e.code, severity: e.severity ?? 'ERROR', message: e.message, detail: e.detail, column: e.column, hint: e.hint });
        }
      },
    });
  };
  return Object.assign(Object.create(factory), {
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: async () => wrap(await factory.connectToShadowDb()),
  });
}

async function engineFor(factory: AdapterFactory, schema: SchemaFile[]) {
  const bg = await loadWasm();
  const logs: string[] = [];
  const engine = await bg.SchemaEngine.new(
    { datamodels: schema.map((f) => [f.path, f.content]) },
    (line: string) => logs.push(line),
    bindMigrationAwareSqlAdapterFactory(wholeScripts(factory)),
  );
  return engine as {
    applyMigrations(input: unknown): Promise<{ appliedMigrationNames: string[] }>;
    diff(input: unknown): Promise<{ stdout: string | null; exitCode: number }>;
    free(): void;
  };
}

async function migrationsList(dir = MIGRATIONS_DIR) {
  const lockPath = path.join(dir, 'migration_lock.toml');
  const lock = await readFile(lockPath, 'utf8').catch(() => null);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const dirs = [];
  for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const content = await readFile(path.join(dir, e.name, 'migration.sql'), 'utf8')
      .then((value) => ({ tag: 'ok', value }))
      .catch((err: Error) => ({ tag: 'error', value: err.message }));
    dirs.push({ path: e.name, migrationFile: { path: 'migration.sql', content } });
  }
  return { baseDir: dir, lockfile: { path: 'migration_lock.toml', content: lock }, migrationDirectories: dirs, shadowDbInitScript: '' };
}

/**
 * Applies pending migrations; returns the names applied now. `through` stops after that migration, so a
 * test can build a database as an older release left it; `dir` reads migrations from another folder (tests).
 */
export async function applyMigrations(factory: AdapterFactory, options: { through?: string; dir?: string } = {}): Promise<string[]> {
  const engine = await engineFor(factory, await schemaFiles());
  try {
    const list = await migrationsList(options.dir);
    if (options.through !== undefined) {
      const { through } = options;
      if (!list.migrationDirectories.some((d) => d.path === through)) throw new Error(`no migration named ${through}`);
      list.migrationDirectories = list.migrationDirectories.filter((d) => d.path.localeCompare(through) <= 0);
    }
    const out = await engine.applyMigrations({ migrationsList: list, filters: noFilter });
    return out.appliedMigrationNames;
  } finally {
    engine.free();
  }
}

/**
 * SQL that takes a database built by the committed migrations to the current schema. The migrations are
 * replayed on a throwaway in-memory PGlite, so this needs no database server.
 */
export async function pendingSchemaSql(): Promise<string> {
  const schema = await schemaFiles();
  const shadow = new PrismaPGlite(newPGlite());
  // The adapter's own shadow database is a PGlite without extensions; the migrations need btree_gist.
  shadow.connectToShadowDb = () => new PrismaPGlite(newPGlite()).connect();
  const engine = await engineFor(shadow, schema);
  try {
    const list = await migrationsList();
    const from = list.migrationDirectories.length ? { tag: 'migrations', ...list } : { tag: 'empty' };
    const out = await engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: schema },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    const sql = out.stdout ?? '';
    return /^\s*(--.*\n?|\s)*$/.test(sql) || /This is an empty migration/.test(sql) ? '' : sql;
  } finally {
    engine.free();
  }
}

/** Writes prisma/migrations/<timestamp>_<name>/migration.sql from the schema diff, as `prisma migrate dev --create-only` would. */
export async function createMigration(name: string): Promise<string | undefined> {
  const sql = await pendingSchemaSql();
  if (!sql) return undefined;
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name.replace(/[^a-zA-Z0-9_]+/g, '_')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'migration.sql'), sql);
  await writeFile(path.join(MIGRATIONS_DIR, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n');
  return dir;
}
