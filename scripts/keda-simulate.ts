// npm run keda:simulate -- <profile> [--set key=value …]
// Replays keda/profiles/<profile>.yaml against the ScaledObject it names and draws lag and consumers over
// time (.data/keda/<profile>.svg, plus .png when rsvg-convert is installed), so a rule can be tuned before it
// is deployed. --set tries a value without editing the YAML, e.g. --set lagThreshold=40 --set maxReplicaCount=8
// (keys: minReplicaCount maxReplicaCount pollingInterval cooldownPeriod lagThreshold activationLagThreshold
// allowIdleConsumers, and the profile's perConsumerPerSecond startupSeconds partitions).
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadManifests, ROOT } from './lib/manifests';
import { ruleOf, type ScaleRule } from './lib/keda';
import { simulate, chartSvg, type Profile } from './lib/keda-sim';

const RULE_KEYS: Record<string, keyof ScaleRule> = {
  minReplicaCount: 'minReplicaCount', maxReplicaCount: 'maxReplicaCount', pollingInterval: 'pollingIntervalS', cooldownPeriod: 'cooldownPeriodS',
  lagThreshold: 'lagThreshold', activationLagThreshold: 'activationLagThreshold', allowIdleConsumers: 'allowIdleConsumers',
};
const PROFILE_KEYS = ['perConsumerPerSecond', 'startupSeconds', 'partitions'] as const;

function main() {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--') && !args[args.indexOf(a) - 1]?.startsWith('--set'));
  const dir = path.join(ROOT, 'keda', 'profiles');
  const available = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run keda:simulate -- <profile> [--set key=value …]\nprofiles: ${available.join(', ')}`);
    process.exit(2);
  }
  const profile = yaml.load(readFileSync(path.join(dir, `${name}.yaml`), 'utf8')) as Profile;
  const so = loadManifests().scaledObjects.find((s) => s.name === profile.scaledObject);
  if (!so) throw new Error(`keda/profiles/${name}.yaml names ScaledObject ${profile.scaledObject}, which keda/ does not declare`);
  const rule = ruleOf(so);
  const changed: string[] = [];
  args.forEach((a, i) => {
    if (a !== '--set') return;
    const [k, v] = (args[i + 1] ?? '').split('=');
    if (k in RULE_KEYS) (rule as any)[RULE_KEYS[k]] = k === 'allowIdleConsumers' ? v === 'true' : Number(v);
    else if ((PROFILE_KEYS as readonly string[]).includes(k)) (profile as any)[k] = Number(v);
    else throw new Error(`--set ${k}: unknown key (rule: ${Object.keys(RULE_KEYS).join(', ')}; profile: ${PROFILE_KEYS.join(', ')})`);
    changed.push(`${k}=${v}`);
  });

  const sim = simulate(profile, rule);
  const s = sim.summary;
  const ruleLine = `min ${rule.minReplicaCount} max ${rule.maxReplicaCount} lagThreshold ${rule.lagThreshold} activation ${rule.activationLagThreshold} poll ${rule.pollingIntervalS}s cooldown ${rule.cooldownPeriodS}s${changed.length ? ` (--set ${changed.join(' ')})` : ''}`;
  const title = `${so.name}: ${profile.description ?? name}`;
  const svg = chartSvg(title, `${ruleLine} · ${profile.partitions} partitions · ${profile.perConsumerPerSecond}/s per consumer · start ${profile.startupSeconds}s`, sim, rule);
  const outDir = path.join(ROOT, '.data', 'keda');
  mkdirSync(outDir, { recursive: true });
  const suffix = changed.length ? `-${changed.join('-').replace(/[^a-zA-Z0-9=.-]/g, '')}` : '';
  const svgPath = path.join(outDir, `${name}${suffix}.svg`);
  writeFileSync(svgPath, svg);
  let pngPath: string | undefined;
  const rsvg = spawnSync('sh', ['-c', 'command -v rsvg-convert'], { encoding: 'utf8' }).stdout.trim();
  if (rsvg) {
    pngPath = svgPath.replace(/\.svg$/, '.png');
    if (spawnSync(rsvg, ['-o', pngPath, svgPath]).status !== 0 || !existsSync(pngPath)) pngPath = undefined;
  }

  console.log(`${title}
  rule           ${ruleLine}
  events         ${Math.round(s.events)} over ${profile.durationMinutes} min
  peak lag       ${Math.round(s.peakLag)} events at minute ${s.peakLagAtMin.toFixed(1)}
  worst wait     ${s.worstWaitS.toFixed(1)} s behind the backlog
  consumers      at most ${s.maxReplicas}; ${s.scaleEvents} scaling decisions; ${s.consumerMinutes.toFixed(0)} consumer-minutes
  backlog at end ${Math.round(s.backlogAtEnd)}
  chart          ${path.relative(process.cwd(), svgPath)}${pngPath ? `  (${path.relative(process.cwd(), pngPath)})` : '  (install librsvg2-bin for a PNG)'}`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
