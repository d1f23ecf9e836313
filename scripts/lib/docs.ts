// README tables generated from what runs: the function inventory from knative/, the event catalogue from
// each system's events (functions/<system>/events.ts). `npm run docs` rewrites them; a test fails when
// README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadManifests, ROOT } from './manifests';
import { externalTopics } from '../../functions/shared/events/catalogue';
import { systems } from '../../functions/shared/systems';

export const README = path.join(ROOT, 'README.md');

function scaleRule(a: Record<string, string>): string {
  const min = a['autoscaling.knative.dev/min-scale'] ?? '0';
  const max = a['autoscaling.knative.dev/max-scale'] ?? '∞';
  const metric = a['autoscaling.knative.dev/metric'] ?? 'concurrency';
  const target = a['autoscaling.knative.dev/target'];
  return `${min}–${max} pods, ${metric}${target ? ` target ${target}` : ''}${min === '0' ? ', scales to zero' : ''}`;
}

export function functionTable(): string {
  const m = loadManifests();
  const rows = m.services.map((s) => {
    const seed = s.doc.metadata.labels?.['medlab.io/seed'] ?? '—';
    const triggers = [
      ...m.routes.filter((r) => r.service === s.name).map((r) => `\`${r.method ?? ''} ${r.path}\``.replace('` ', '`')),
      ...m.kafkaSources.filter((k) => k.sink.service === s.name).map((k) => `topic \`${k.topics.join(', ')}\` (KafkaSource \`${k.name}\`, group \`${k.consumerGroup}\`, retry ${k.delivery.retry} ${k.delivery.backoffPolicy})`),
      ...m.pingSources.filter((p) => p.sink.service === s.name).map((p) => `schedule \`${p.schedule}\` ${p.timezone ?? ''} (PingSource \`${p.name}\`)`),
      ...m.kafkaSources.filter((k) => k.delivery.deadLetterSink?.service === s.name).map((k) => `dead-letter sink of \`${k.name}\``),
    ];
    const keda = m.kafkaSources.filter((k) => k.sink.service === s.name).flatMap((k) => m.scaledObjects.filter((so) => so.target.name === k.name))
      .map((so) => `<br>consumers: KEDA \`${so.name}\` ${so.minReplicaCount}–${so.maxReplicaCount} at lag ${so.kafka?.lagThreshold} (poll ${so.pollingIntervalS}s, cooldown ${so.cooldownPeriodS}s)`);
    return `| ${s.system} (${seed}) | \`${s.name}\` (${s.functionDir}) | ${triggers.join('<br>')} | ${scaleRule(s.annotations)}${keda.join('')} |`;
  });
  return ['| system (seed deployment) | function (folder) | route or trigger | scale rule |', '|---|---|---|---|', ...rows].join('\n');
}

export function eventTable(): string {
  const rows = systems().flatMap((s) => Object.entries(s.events).map(([type, e]) =>
    `| \`${type}\` | ${s.name} | \`${e.topic}\`${externalTopics[e.topic] ? ' (external)' : ''} | \`${e.key}\` | ${e.description} |`));
  return ['| CloudEvent type | system (its events.ts) | topic | record key | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

function replaceBetween(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`README.md has no ${start} … ${end} section`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

export function renderedReadme(text = readFileSync(README, 'utf8')): string {
  return replaceBetween(replaceBetween(text, 'functions', functionTable()), 'events', eventTable());
}

if (require.main === module) {
  writeFileSync(README, renderedReadme());
  console.log('README.md tables refreshed');
}
