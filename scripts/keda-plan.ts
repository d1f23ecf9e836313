// npm run keda:plan — for every ScaledObject in keda/: the consumer group's live lag on its topic and the
// number of consumers KEDA would ask for now, with the rule's reasoning.
// Reads Kafka at KAFKA_BROKERS when set (the cluster's brokers, or a port-forward); otherwise asks the
// running `npm start` (http://localhost:$PORT/keda), which applies the same rules to its in-process bus.
import { loadManifests } from './lib/manifests';
import { readLag, ruleOf, Scaler, type LagReading, type ScaleDecision } from './lib/keda';
import { kafkaBrokers, kafkaClient } from '../functions/shared/kafka';
import { groupOffsets } from './lib/runtime/dispatcher';

interface Row { name: string; topic: string; group: string; reading: LagReading; decision: ScaleDecision; running?: number; rule: ReturnType<typeof ruleOf> }

function print(rows: Row[], where: string): void {
  console.log(`KEDA plan (${where}) — ${new Date().toISOString()}`);
  for (const r of rows) {
    const parts = r.reading.perPartition.map((p) => `p${p.partition}:${p.lag}`).join(' ');
    console.log(`
${r.name}  topic ${r.topic}  group ${r.group}
  rule      min ${r.rule.minReplicaCount}  max ${r.rule.maxReplicaCount}  lagThreshold ${r.rule.lagThreshold}  activation ${r.rule.activationLagThreshold}  poll ${r.rule.pollingIntervalS}s  cooldown ${r.rule.cooldownPeriodS}s${r.rule.allowIdleConsumers ? '  allowIdleConsumers' : ''}
  lag       ${r.reading.rawLag} (${parts || 'no partitions yet'})${r.reading.lag !== r.reading.rawLag ? `, counted as ${r.reading.lag} (capped at partitions × lagThreshold)` : ''}
  replicas  ${r.decision.replicas}${r.running !== undefined ? ` (running now: ${r.running})` : ''}  ${r.decision.active ? 'active' : 'inactive'} — ${r.decision.reason}`);
  }
}

async function main() {
  const set = loadManifests();
  const brokers = kafkaBrokers();
  if (brokers) {
    const admin = kafkaClient('keda-plan', brokers).admin();
    await admin.connect();
    const rows: Row[] = [];
    try {
      for (const so of set.scaledObjects) {
        if (!so.kafka) continue;
        const rule = ruleOf(so);
        const reading = readLag(await groupOffsets(admin, so.kafka.consumerGroup, [so.kafka.topic]), rule);
        // A one-off reading has no history: inactive means "minReplicaCount once the cooldown has passed".
        rows.push({ name: so.name, topic: so.kafka.topic, group: so.kafka.consumerGroup, reading, decision: new Scaler(rule).decide(reading.lag, Date.now()), rule });
      }
    } finally {
      await admin.disconnect();
    }
    print(rows, `Kafka at ${brokers.join(',')}`);
    return;
  }
  const url = `http://localhost:${process.env.PORT ?? 8080}/keda`;
  let live: { scaledObjects: Array<{ scaledObject: string; topic: string; consumerGroup: string; reading?: LagReading; decision?: ScaleDecision; replicas: number; error?: string }> };
  try {
    live = await (await fetch(url, { signal: AbortSignal.timeout(3000) })).json();
  } catch {
    console.error(`No Kafka to read (KAFKA_BROKERS is unset) and no local runtime at ${url}.\nStart the bundle with \`npm start\`, or set KAFKA_BROKERS to the brokers to inspect.`);
    process.exit(1);
  }
  print(live.scaledObjects.filter((s) => s.reading && s.decision).map((s) => ({
    name: s.scaledObject, topic: s.topic, group: s.consumerGroup, reading: s.reading!, decision: s.decision!, running: s.replicas,
    rule: ruleOf(set.scaledObjects.find((x) => x.name === s.scaledObject)!),
  })), `local runtime at ${url}, in-process bus`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
