// knative/ and keda/ copied to a temporary folder with edits, so a test can change or break a manifest
// on purpose and read it back through the same code the runtime and the checks use.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export interface ManifestCopy {
  /** knative/base, keda and knative/observability of the copy, as loadManifests() and checkManifests() take them. */
  dirs: string[];
  base: string;
  secretKeysFile: string;
  cleanup(): void;
}

/**
 * Edits by path from the project root: text → text, or null to delete the file. An edit must change something.
 * A file that does not exist is created from what its edit returns for ''.
 */
export function copyManifests(edits: Record<string, ((text: string) => string) | null> = {}): ManifestCopy {
  const dir = mkdtempSync(path.join(tmpdir(), 'manifests-'));
  cpSync(path.join(ROOT, 'knative'), path.join(dir, 'knative'), { recursive: true });
  cpSync(path.join(ROOT, 'keda'), path.join(dir, 'keda'), { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const full = path.join(dir, file);
    if (edit === null) {
      rmSync(full);
      continue;
    }
    const before = existsSync(full) ? readFileSync(full, 'utf8') : '';
    mkdirSync(path.dirname(full), { recursive: true });
    const after = edit(before);
    if (after === before) throw new Error(`the edit of ${file} changed nothing`);
    writeFileSync(full, after);
  }
  const base = path.join(dir, 'knative', 'base');
  return {
    dirs: [base, path.join(dir, 'keda'), path.join(dir, 'knative', 'observability'), path.join(dir, 'knative', 'observability', 'metrics')],
    base,
    secretKeysFile: path.join(dir, 'knative', 'secret-keys.yaml'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
