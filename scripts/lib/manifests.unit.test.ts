import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadManifests, isoDurationMs, ROOT, KAFKA_DELIVERY_DEFAULTS, MANIFEST_DIRS } from './manifests';
import { ensureKubectl } from './services';
import { copyManifests, type ManifestCopy } from '../../test/support/manifests';

const CONSUMER = 'knative/base/booking-queue/booking-consumer.yaml';
const PUBLISHER = 'knative/base/booking-queue/outbox-publisher.yaml';
const SCALED = 'keda/booking-consumer-source.yaml';

/** Replaces the value of `field:` (at any indentation) in a manifest, whatever it is today. */
const set = (field: string, value: string) => (t: string) => {
  const re = new RegExp(`^(\\s*${field}: ).*$`, 'm');
  assert.match(t, re, `${field} is in the manifest`);
  return t.replace(re, `$1${value}`);
};
const all = (...edits: Array<(t: string) => string>) => (t: string) => edits.reduce((x, e) => e(x), t);

/** The copy's loader view, removed afterwards. */
function withCopy<T>(edits: Parameters<typeof copyManifests>[0], use: (copy: ManifestCopy) => T): T {
  const copy = copyManifests(edits);
  try {
    return use(copy);
  } finally {
    copy.cleanup();
  }
}

describe('knative/ manifests as the local runtime reads them', function () {
  this.timeout(30_000);

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

  it('hosts exactly the documents kustomize renders for the cluster (system folders read, component and kustomization files skipped)', () => {
    const kubectl = ensureKubectl();
    const id = (d: { apiVersion: string; kind: string; metadata: { name: string } }) => `${d.apiVersion} ${d.kind} ${d.metadata.name}`;
    const rendered = MANIFEST_DIRS.flatMap((dir) => {
      const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return (yaml.loadAll(r.stdout) as any[]).filter(Boolean).map(id);
    });
    assert.deepEqual(loadManifests().docs.map(id).sort(), rendered.sort());
  });

  it('reads a KafkaSource as written: delivery, ordering, offsets and consumers', () => {
    const source = withCopy({
      [CONSUMER]: all(set('retry', '7'), set('backoffPolicy', 'linear'), set('backoffDelay', 'PT2.5S'), set('timeout', 'PT1M'),
        set('ordering', 'unordered'), set('initialOffset', 'latest'), set('consumers', '3'), set('consumerGroup', 'booking-deciders')),
    }, (copy) => loadManifests(copy.dirs).kafkaSources.find((s) => s.name === 'booking-consumer-source')!);
    assert.deepEqual({ ...source.delivery, deadLetterSink: undefined }, { retry: 7, backoffPolicy: 'linear', backoffDelayMs: 2500, timeoutMs: 60_000, deadLetterSink: undefined });
    assert.equal(source.deliveryDeclared, true);
    assert.deepEqual([source.ordering, source.initialOffset, source.consumers, source.consumerGroup], ['unordered', 'latest', 3, 'booking-deciders']);
  });

  it('reads a PingSource, a ScaledObject and a Service\'s scale annotations as written', () => {
    const m = withCopy({
      [PUBLISHER]: all(set('schedule', '"*/5 6-20 * * *"'), set('timezone', 'Asia/Bangkok'), set('autoscaling.knative.dev/max-scale', '"2"')),
      [SCALED]: all(set('minReplicaCount', '1'), set('maxReplicaCount', '3'), set('pollingInterval', '7'), set('cooldownPeriod', '90'), set('lagThreshold', '"12"')),
    }, (copy) => loadManifests(copy.dirs));
    const ping = m.pingSources.find((p) => p.sink.service === 'booking-queue-outbox-publisher')!;
    assert.deepEqual([ping.schedule, ping.timezone], ['*/5 6-20 * * *', 'Asia/Bangkok']);
    assert.equal(m.services.find((s) => s.name === 'booking-queue-outbox-publisher')!.annotations['autoscaling.knative.dev/max-scale'], '2');
    const so = m.scaledObjects.find((s) => s.name === 'booking-consumer-source')!;
    assert.deepEqual([so.minReplicaCount, so.maxReplicaCount, so.pollingIntervalS, so.cooldownPeriodS, so.kafka?.lagThreshold], [1, 3, 7, 90, 12]);
  });

  it('a KafkaSource without delivery gets the Kafka data plane defaults', () => {
    const source = withCopy({ [CONSUMER]: (t) => t.replace(/  delivery:\n(    .*\n|      .*\n|        .*\n)*/, '') }, (copy) => loadManifests(copy.base).kafkaSources.find((s) => s.name === 'booking-consumer-source')!);
    assert.equal(source.deliveryDeclared, false);
    assert.deepEqual(source.delivery, KAFKA_DELIVERY_DEFAULTS);
  });

  it('a kustomize Component is patches, not documents: skipped wherever it sits, an error without its kind', () => {
    const patch = (t: string) => t + '- op: add\n  path: /spec/template/spec/timeoutSeconds\n  value: 10\n';
    const component = (kind: string) => (t: string) => t + `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: ${kind}\npatches:\n  - path: patch.yaml\n`;
    const services = loadManifests().services.length;
    assert.equal(withCopy({ 'knative/base/booking-queue/extra/kustomization.yaml': component('Component'), 'knative/base/booking-queue/extra/patch.yaml': patch },
      (copy) => loadManifests(copy.dirs).services.length), services);
    assert.throws(() => withCopy({ 'knative/base/booking-queue/extra/kustomization.yaml': component('Kustomization'), 'knative/base/booking-queue/extra/patch.yaml': patch },
      (copy) => loadManifests(copy.dirs)), /extra\/patch\.yaml: \(document\): is not a mapping/);
  });

  it('a malformed manifest is an error naming the file and the field', () => {
    const fails = (edits: Parameters<typeof copyManifests>[0], expected: RegExp) => assert.throws(() => withCopy(edits, (copy) => loadManifests(copy.base)), expected);
    fails({ [CONSUMER]: set('backoffDelay', 'half-a-second') }, /booking-consumer\.yaml: spec\.delivery\.backoffDelay: "half-a-second" is not an ISO-8601 duration/);
    fails({ 'knative/base/booking-queue/book-slot.yaml': (t) => t.replace(/    medlab\.io\/function: .*\n/, '') }, /book-slot\.yaml: metadata\.annotations\.medlab\.io\/function: is required/);
    fails({ [PUBLISHER]: (t) => t.replace(/  schedule: .*\n/, '') }, /outbox-publisher\.yaml: spec\.schedule: is required/);
    fails({ 'knative/base/config.yaml': (t) => t + '\n  broken: [unclosed\n' }, /config\.yaml: \(yaml\)/);
  });

  it('ISO-8601 durations as Knative writes them', () => {
    assert.equal(isoDurationMs('PT0.3S', 'f', 'x'), 300);
    assert.equal(isoDurationMs('PT10M', 'f', 'x'), 600_000);
    assert.equal(isoDurationMs('PT1H30M', 'f', 'x'), 5_400_000);
    assert.throws(() => isoDurationMs('10s', 'f', 'x'));
  });
});
