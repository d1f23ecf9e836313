// npm run keda:simulate -- <profile> [--set key=value …]
// Replays keda/profiles/<profile>.yaml against the ScaledObject it names and draws lag and consumers over
// time (.data/keda/<profile>.svg, plus .png when rsvg-convert is installed), so a rule can be tuned before it
// is deployed. --set tries a value without editing the YAML, e.g. --set lagThreshold=40 --set maxReplicaCount=8
// (keys: minReplicaCount maxReplicaCount pollingInterval cooldownPeriod lagThreshold activationLagThreshold
// allowIdleConsumers, and the profile's perConsumerPerSecond startupSeconds partitions). Each value is held to
// the rules manifests:check holds the YAML to; a refused one exits 2 naming the key. When events are still
// waiting as the profile ends, the report says how many and that the worst wait is unbounded.
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadManifests, ROOT } from './lib/manifests';
import { ruleOf } from './lib/keda';
import { simulate, chartSvg, applySettings, parseSimulateArgs, waitLine, SettingError, SETTINGS, type Profile } from './lib/keda-sim';

function main() {
  const dir = path.join(ROOT, 'keda', 'profiles');
  const available = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
  const usage = `usage: npm run keda:simulate -- <profile> [--set key=value …]\nprofiles: ${available.join(', ')}\nkeys: ${Object.keys(SETTINGS).join(', ')}`;
  let args: ReturnType<typeof parseSimulateArgs>;
  try {
    args = parseSimulateArgs(process.argv.slice(2));
  } catch (err) {
    throw err instanceof SettingError ? new SettingError(err.key, `${err.message}\n${usage}`) : err;
  }
  const { profile: name, sets } = args;
  if (!available.includes(name)) throw new SettingError('profile', `no profile ${name}\n${usage}`);
  const loaded = yaml.load(readFileSync(path.join(dir, `${name}.yaml`), 'utf8')) as Profile;
  const so = loadManifests().scaledObjects.find((s) => s.name === loaded.scaledObject);
  if (!so) throw new Error(`keda/profiles/${name}.yaml names ScaledObject ${loaded.scaledObject}, which keda/ does not declare`);
  const { rule, profile, changed } = applySettings(ruleOf(so), loaded, sets);

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
  worst wait     ${waitLine(s)}
  consumers      at most ${s.maxReplicas}; ${s.scaleEvents} scaling decisions; ${s.consumerMinutes.toFixed(0)} consumer-minutes
  backlog at end ${Math.round(s.backlogAtEnd)}${s.unconsumed ? ` (${s.unconsumed} never consumed)` : ''}
  chart          ${path.relative(process.cwd(), svgPath)}${pngPath ? `  (${path.relative(process.cwd(), pngPath)})` : '  (install librsvg2-bin for a PNG)'}`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  // 2: the command line was wrong (a key, a value, a profile); 1: anything else.
  process.exit(err instanceof SettingError ? 2 : 1);
}
