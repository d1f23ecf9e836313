// `prisma generate` offline: the CLI insists on a schema-engine binary it never runs for generate, and
// would download one. Pointing PRISMA_SCHEMA_ENGINE_BINARY at a placeholder keeps it from the network.
const { spawnSync } = require('node:child_process');
const { writeFileSync, mkdirSync, existsSync } = require('node:fs');
const path = require('node:path');

const placeholder = path.join(__dirname, '..', 'node_modules', '.cache', 'schema-engine-placeholder');
if (!existsSync(placeholder)) {
  mkdirSync(path.dirname(placeholder), { recursive: true });
  writeFileSync(placeholder, '#!/bin/sh\necho "migrations run through scripts/db.ts (WASM engine)" >&2\nexit 1\n', { mode: 0o755 });
}
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || placeholder, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
const prisma = require.resolve('prisma/build/index.js');
const r = spawnSync(process.execPath, [prisma, 'generate'], { stdio: 'inherit', env, cwd: path.join(__dirname, '..') });
process.exit(r.status ?? 1);
