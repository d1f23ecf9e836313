// npm run manifests:check — validates knative/ and keda/ against their CRD schemas, as written and as
// kustomize renders the base (the function Component applied), cross-checks them with the code, and renders
// every kustomize overlay. Exit 1 with one line per finding.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkManifests } from './lib/manifest-checks';
import { ensureKubectl } from './lib/services';
import { ROOT } from './lib/manifests';

async function main() {
  const kubectl = ensureKubectl();
  const { findings, set } = await checkManifests({ kubectl });
  const overlays = readdirSync(path.join(ROOT, 'knative', 'overlays'));
  for (const o of overlays) {
    const r = spawnSync(kubectl, ['kustomize', path.join(ROOT, 'knative', 'overlays', o)], { encoding: 'utf8' });
    if (r.status !== 0) findings.push({ file: `knative/overlays/${o}/kustomization.yaml`, field: '(render)', message: r.stderr.trim() });
    else console.log(`overlay ${o}: renders ${r.stdout.split(/^kind: /m).length - 1} documents`);
  }
  if (findings.length) {
    for (const f of findings) console.error(`✗ ${f.file}: ${f.field}: ${f.message}`);
    console.error(`${findings.length} problem(s) in the manifests`);
    process.exit(1);
  }
  console.log(`manifests ok: ${set!.services.length} Services, ${set!.kafkaSources.length} KafkaSource(s), ${set!.pingSources.length} PingSource(s), ${set!.scaledObjects.length} ScaledObject(s), ${set!.routes.length} routes`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
