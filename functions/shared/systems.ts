// Every system of the bundle, found by its folder: functions/<system>/system.ts. Nothing lists the systems
// by hand, so adding one never edits a file that knows the others. The catalogue, the manifests checks and
// README's tables are built from what this finds.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { System } from './system';

const FUNCTIONS = path.join(__dirname, '..');
let found: System[] | undefined;

export function systems(): System[] {
  found ??= readdirSync(FUNCTIONS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared')
    .filter((d) => ['system.ts', 'system.js'].some((f) => existsSync(path.join(FUNCTIONS, d.name, f))))
    .map((d) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(FUNCTIONS, d.name, 'system')) as { system?: System };
      if (!mod.system || mod.system.name !== d.name) throw new Error(`functions/${d.name}/system.ts must export system = defineSystem({ name: '${d.name}', … })`);
      return mod.system;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return found;
}

