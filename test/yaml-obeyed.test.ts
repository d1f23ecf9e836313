// The local runtime means what the YAML says: change a value in knative/ or keda/ and the behaviour
// on the laptop changes with it.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { MemoryDispatcher } from '../scripts/lib/runtime/dispatcher';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { db } from '../functions/shared/db';
import { resetDatabase, seedCatalogue, eventually } from './support/fixtures';
import { copyManifests } from './support/manifests';
const CONSUMER = 'knative/base/booking-queue/booking-consumer.yaml';
const SCALED = 'keda/booking-consumer-source.yaml';
/** The booking KafkaSource's consumers, by name: other systems' sources are in the bundle too, in manifest order. */
const booking = (bundle: Bundle) => bundle.dispatchers.find((d) => d.source.name === 'booking-consumer-source')!;

/** A sink that answers `status` after `delayMs`, counting requests and the most in flight at once. */
async function testSink(status: number, delayMs = 0) {
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0, bodies: [] as string[] };
  const server = http.createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => stats.bodies.push(body));
    setTimeout(() => { stats.inFlight--; res.writeHead(status, { 'content-type': 'application/json' }).end('{"title":"sink says no"}'); }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** knative/ and keda/ copied with edits; the sink of the booking KafkaSource replaced by `sinkUri`. */
function manifests(sinkUri: string, edits: Record<string, (t: string) => string>) {
  const sink = (t: string) => t.replace(/  sink:\n    ref:\n      apiVersion: serving\.knative\.dev\/v1\n      kind: Service\n      name: booking-consumer\n/, `  sink:\n    uri: ${sinkUri}\n`);
  const consumer = edits[CONSUMER];
  return copyManifests({ ...edits, [CONSUMER]: consumer ? (t) => sink(consumer(t)) : sink });
}

const request = (i: number) => ({
  topic: 'booking-requests', key: `p-${i}`, value: JSON.stringify({ requestId: `r-${i}`, patientId: `p-${i}`, slotId: randomUUID() }),
  headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/portal', ce_type: 'com.medlab.booking.requested', 'content-type': 'application/json' },
});

describe('the local runtime obeys knative/ and keda/', function () {
  this.timeout(60_000);
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  for (const retry of [1, 3]) {
    it(`delivery.retry: ${retry} in the KafkaSource means ${retry + 1} attempts, then the dead-letter sink`, async () => {
      const sink = await testSink(503);
      const m = manifests(sink.url, { [CONSUMER]: (t) => t.replace('retry: 5', `retry: ${retry}`).replace('backoffDelay: PT0.5S', 'backoffDelay: PT0.01S') });
      const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
      try {
        await memoryBus.send([request(1)]);
        await bundle.pollScalers();
        const letter = await eventually(() => db().deadLetter.findFirst(), 'the dead letter');
        assert.equal(sink.stats.requests, retry + 1);
        assert.equal(letter.errorCode, 503);
        assert.equal(letter.errorDest, sink.url);
      } finally {
        await bundle.stop(); await sink.close(); m.cleanup();
      }
    });
  }

  it('a 400 from the sink is not retried whatever delivery.retry says', async () => {
    const sink = await testSink(400);
    const m = manifests(sink.url, { [CONSUMER]: (t) => t.replace('retry: 5', 'retry: 8') });
    const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
    try {
      await memoryBus.send([request(1)]);
      await bundle.pollScalers();
      await eventually(() => db().deadLetter.findFirst(), 'the dead letter');
      assert.equal(sink.stats.requests, 1);
    } finally {
      await bundle.stop(); await sink.close(); m.cleanup();
    }
  });

  it('the ScaledObject decides how many consumers run: lagThreshold 5 → 4 (capped by partitions), 50 → 1', async () => {
    for (const [threshold, expected] of [[5, 4], [50, 1]] as const) {
      const sink = await testSink(200, 150);
      const m = manifests(sink.url, { [SCALED]: (t) => t.replace('lagThreshold: "20"', `lagThreshold: "${threshold}"`) });
      const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
      try {
        assert.equal(booking(bundle).replicas, 0, 'minReplicaCount 0 and no lag: no consumer');
        await memoryBus.send(Array.from({ length: 40 }, (_, i) => request(i)));
        await bundle.pollScalers();
        assert.equal(booking(bundle).replicas, expected);
        const keda = await (await fetch(`${bundle.url}/keda`)).json();
        const scaled = keda.scaledObjects.find((s: { scaledObject: string }) => s.scaledObject === 'booking-consumer-source');
        assert.equal(scaled.replicas, expected);
        assert.equal(scaled.reading.rawLag, 40);
        await (booking(bundle) as MemoryDispatcher).idle();
        assert.equal(sink.stats.requests, 40);
        assert.ok(sink.stats.maxInFlight <= 4, 'ordered: at most one record in flight per partition');
      } finally {
        await bundle.stop(); await sink.close(); m.cleanup(); memoryBus.clear();
      }
    }
  });

  it('after cooldownPeriod without lag the consumers go back to minReplicaCount', async () => {
    const sink = await testSink(200);
    const m = manifests(sink.url, { [SCALED]: (t) => t.replace('cooldownPeriod: 300', 'cooldownPeriod: 1').replace('pollingInterval: 10', 'pollingInterval: 1') });
    const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
    try {
      await memoryBus.send([request(1)]);
      await bundle.pollScalers();
      assert.equal(booking(bundle).replicas, 1);
      await eventually(async () => booking(bundle).replicas === 0, 'scale back to zero after the 1 s cooldown', 10_000);
      assert.equal(sink.stats.requests, 1);
    } finally {
      await bundle.stop(); await sink.close(); m.cleanup();
    }
  });

  it('ordering: ordered keeps one key\'s records in order while partitions run side by side', async () => {
    // The first request is answered only once a request of another partition has arrived while it waits:
    // members that worked through their partitions one after another would never answer it.
    const bodies: string[] = [];
    const stats = { inFlight: 0, maxInFlight: 0 };
    let first: (() => void) | undefined;
    let sideBySide: string[] | undefined;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
        const answer = () => { stats.inFlight--; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); };
        if (bodies.length === 1) { first = answer; return; }
        if (first) { sideBySide = [bodies[0], body]; first(); first = undefined; }
        answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const m = manifests(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { [SCALED]: () => '' });
    const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
    try {
      assert.equal(booking(bundle).replicas, 1, 'one member holds every partition');
      const keyOf = (i: number) => `patient-${i % 4}`;
      const records = Array.from({ length: 40 }, (_, i) => ({ ...request(i), key: keyOf(i) }));
      await memoryBus.send(records);
      await (booking(bundle) as MemoryDispatcher).idle();
      assert.equal(bodies.length, 40);
      const partitionOf = (body: string) => memoryBus.partitionFor(keyOf(Number(JSON.parse(body).requestId.slice(2))));
      assert.ok(sideBySide, 'a second partition\'s record arrived while the first record waited');
      assert.notEqual(partitionOf(sideBySide[0]), partitionOf(sideBySide[1]), 'the two in flight at once are of different partitions');
      const partitions = new Set(records.map((r) => memoryBus.partitionFor(r.key))).size;
      assert.ok(stats.maxInFlight >= 2 && stats.maxInFlight <= partitions, `one record in flight per partition at most (${stats.maxInFlight})`);
      for (let k = 0; k < 4; k++) {
        const seen = bodies.map((b) => JSON.parse(b).requestId as string).filter((id) => Number(id.slice(2)) % 4 === k).map((id) => Number(id.slice(2)));
        assert.deepEqual(seen, [...seen].sort((a, b) => a - b), `patient-${k} in order`);
      }
    } finally {
      await bundle.stop(); m.cleanup(); memoryBus.clear();
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    }
  });

  it('without a ScaledObject the KafkaSource runs spec.consumers members', async () => {
    const sink = await testSink(200, 100);
    const m = manifests(sink.url, { [CONSUMER]: (t) => t.replace('consumers: 1', 'consumers: 2'), [SCALED]: () => '' });
    const bundle = await new Bundle({ port: 0, schedules: false, manifestsDir: m.dirs }).start();
    try {
      assert.equal(booking(bundle).replicas, 2);
      await memoryBus.send(Array.from({ length: 12 }, (_, i) => request(i)));
      await (booking(bundle) as MemoryDispatcher).idle();
      assert.equal(sink.stats.requests, 12);
      assert.ok(sink.stats.maxInFlight <= 4, 'ordered: at most one record in flight per partition');
    } finally {
      await bundle.stop(); await sink.close(); m.cleanup();
    }
  });
});
