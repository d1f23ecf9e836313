// Prints "<service> <function folder>" for every Knative Service in knative/base (deploy.sh reads it).
import { loadManifests } from './lib/manifests';

for (const s of loadManifests().services) console.log(`${s.name} ${s.functionDir.replace(/^functions\//, '')}`);
