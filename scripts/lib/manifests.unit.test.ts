import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadManifests, isoDurationMs, ROOT, KAFKA_DELIVERY_DEFAULTS } from './manifests';
import { copyManifests } from '../../test/support/manifests';

/** knative/base of a copy with one file edited (the runtime reads base alone here). */
function withFile(rel: string, edit: (text: string) => string): string {
  return copyManifests({ [`knative/base/${rel}`]: edit }).base;
}

describe('knative/ manifests as the local runtime reads them', () => {
  it('every Service names its function folder, and every source sink is a declared Service', () => {
    const m = loadManifests();
    const names = new Set(m.services.map((s) => s.name));
    for (const s of m.services) assert.ok(readdirSync(path.join(ROOT, s.functionDir)).includes('index.ts'), `${s.functionDir}/index.ts`);
    for (const k of m.kafkaSources) {
      assert.ok(names.has(k.sink.service!), `${k.name} sink`);
      assert.ok(names.has(k.delivery.deadLetterSink!.service!), `${k.name} dead-letter sink`);
    }
    for (const p of m.pingSources) assert.ok(names.has(p.sink.service!), `${p.name} sink`);
    for (const r of m.routes) assert.ok(names.has(r.service), `route ${r.path}`);
  });

  it('reads the booking consumer delivery spec as written', () => {
    const source = loadManifests().kafkaSources.find((s) => s.name === 'booking-consumer-source')!;
    assert.deepEqual({ ...source.delivery, deadLetterSink: undefined }, { retry: 5, backoffPolicy: 'exponential', backoffDelayMs: 500, timeoutMs: 30_000, deadLetterSink: undefined });
    assert.equal(source.ordering, 'ordered');
  });

  it('a KafkaSource without delivery gets the Kafka data plane defaults', () => {
    const dir = withFile('booking-queue/booking-consumer.yaml', (t) => t.replace(/  delivery:\n(    .*\n|      .*\n|        .*\n)*/, ''));
    const source = loadManifests(dir).kafkaSources[0];
    assert.equal(source.deliveryDeclared, false);
    assert.deepEqual(source.delivery, KAFKA_DELIVERY_DEFAULTS);
  });

  it('a malformed manifest is an error naming the file and the field', () => {
    assert.throws(() => loadManifests(withFile('booking-queue/booking-consumer.yaml', (t) => t.replace('backoffDelay: PT0.5S', 'backoffDelay: half-a-second'))),
      /booking-consumer\.yaml: spec\.delivery\.backoffDelay: "half-a-second" is not an ISO-8601 duration/);
    assert.throws(() => loadManifests(withFile('booking-queue/book-slot.yaml', (t) => t.replace(/    medlab\.io\/function: .*\n/, ''))),
      /book-slot\.yaml: metadata\.annotations\.medlab\.io\/function: is required/);
    assert.throws(() => loadManifests(withFile('platform/outbox-publisher.yaml', (t) => t.replace(/  schedule: .*\n/, ''))),
      /outbox-publisher\.yaml: spec\.schedule: is required/);
    assert.throws(() => loadManifests(withFile('config.yaml', (t) => t + '\n  broken: [unclosed\n')), /config\.yaml: \(yaml\)/);
  });

  it('ISO-8601 durations as Knative writes them', () => {
    assert.equal(isoDurationMs('PT0.3S', 'f', 'x'), 300);
    assert.equal(isoDurationMs('PT10M', 'f', 'x'), 600_000);
    assert.equal(isoDurationMs('PT1H30M', 'f', 'x'), 5_400_000);
    assert.throws(() => isoDurationMs('10s', 'f', 'x'));
  });
});
