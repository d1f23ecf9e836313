// The KafkaSource's delivery rules as Knative's Kafka data plane has them, proved with records written by a
// Kafka client that is not the project's code (kcat) on the mock broker (KafkaDispatcher), and the same
// rules on the in-process bus (MemoryDispatcher, records sent with memoryBus.send).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { KafkaDispatcher, MemoryDispatcher, type Dispatcher, type SourceBinding } from '../scripts/lib/runtime/dispatcher';
import type { Delivery, Doc, KafkaSourceManifest } from '../scripts/lib/manifests';
import { ensureKcat } from '../scripts/lib/services';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { eventually } from './support/fixtures';

interface Hit { id: string; headers: IncomingHttpHeaders; body: Buffer }

/** A sink whose answer to each request the test decides; an answer may wait (the request is then in flight). */
async function scriptedSink(answer: (hit: Hit) => Promise<number> | number) {
  const hits: Hit[] = [];
  const stats = { inFlight: 0, maxInFlight: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const hit = { id: String(req.headers['ce-id']), headers: req.headers, body: Buffer.concat(chunks) };
      hits.push(hit);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      const status = await answer(hit);
      stats.inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{}' : '{"title":"refused"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stats,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** A promise the test resolves when it chooses. */
function gate<T = number>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => { open = r; });
  return { promise, open };
}

/** The source's log lines, as JSON objects. */
function captureLog() {
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'trace' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return { log, lines };
}

interface Produced { key: string; value: string; headers?: Record<string, string> }

interface Transport {
  name: string;
  kind: 'kafka' | 'memory';
  /** A key that lands on `partition` (the bus picks partitions by key; kcat is told the partition). */
  keyOn(partition: number, base: string): string;
  /** Writes records to one partition of a topic, in this order. */
  produce(topic: string, partition: number, records: Produced[]): Promise<void>;
  dispatcher(binding: SourceBinding): Dispatcher;
}

const brokers = process.env.TEST_KAFKA_BROKERS;

/** kcat, one record per run: `kcat -P -b … -t topic -p partition -k key -H name=value`. */
async function kcatProduce(topic: string, partition: number, record: Produced): Promise<void> {
  const args = ['-P', '-b', brokers!, '-t', topic, '-p', String(partition), '-k', record.key];
  for (const [name, value] of Object.entries(record.headers ?? {})) args.push('-H', `${name}=${value}`);
  const child = spawn(ensureKcat(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.end(`${record.value}\n`);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, `kcat failed: ${stderr}`);
}

const transports: Transport[] = [
  {
    name: 'Kafka (mock broker, records written by kcat)',
    kind: 'kafka',
    keyOn: (_partition, base) => base,
    async produce(topic, partition, records) {
      for (const r of records) await kcatProduce(topic, partition, r);
    },
    dispatcher: (binding) => new KafkaDispatcher(binding, brokers!.split(',')),
  },
  {
    name: 'in-process bus (memoryBus.send)',
    kind: 'memory',
    keyOn(partition, base) {
      for (let n = 0; ; n++) {
        const key = n ? `${base}-${n}` : base;
        if (memoryBus.partitionFor(key) === partition) return key;
      }
    },
    async produce(topic, partition, records) {
      for (const r of records) assert.equal(memoryBus.partitionFor(r.key), partition, `key ${r.key} lands on partition ${partition}`);
      await memoryBus.send(records.map((r) => ({ topic, key: r.key, value: r.value, headers: r.headers ?? {} })));
    },
    dispatcher: (binding) => new MemoryDispatcher(binding),
  },
];

const ceHeaders = (h: IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('ce-')));

for (const transport of transports) {
  describe(`KafkaSource delivery through ${transport.name}`, function () {
    // A rebalance's steps each wait up to 60 s; on a loaded CI machine (every Kafka test file starting at
    // once on a fresh clone) their sum can pass 90 s without anything being wrong.
    this.timeout(180_000);
    const cleanups: Array<() => Promise<void>> = [];
    let topic: string;

    before(() => { if (transport.kind === 'kafka') assert.ok(brokers, 'TEST_KAFKA_BROKERS is set by npm test'); });
    beforeEach(() => { topic = `ks-delivery-${randomUUID().slice(0, 8)}`; });
    afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined); });

    const sink = async (answer: (hit: Hit) => Promise<number> | number) => {
      const s = await scriptedSink(answer);
      cleanups.push(s.close);
      return s;
    };

    const source = (sinkUrl: string, over: { ordering?: 'ordered' | 'unordered'; delivery?: Partial<Delivery>; group?: string } = {}): KafkaSourceManifest => ({
      name: 'lab-orders-source', namespace: 'patient-portal', file: 'test', topics: [topic], consumerGroup: over.group ?? `group-${topic}`,
      initialOffset: 'earliest', ordering: over.ordering ?? 'ordered', consumers: 1, bootstrapServers: [], sink: { uri: sinkUrl },
      delivery: { retry: 2, backoffPolicy: 'linear', backoffDelayMs: 10, timeoutMs: 10_000, ...over.delivery },
      deliveryDeclared: true, doc: {} as Doc,
    });

    const start = async (binding: SourceBinding) => {
      const d = transport.dispatcher(binding);
      cleanups.push(() => d.stop());
      await d.setReplicas(1);
      return d;
    };

    const committed = async (d: Dispatcher, partition: number) => (await d.offsets()).find((p) => p.partition === partition)?.committed;

    const binaryEvent = (key: string, id: string, extra: Record<string, string> = {}): Produced => ({
      key, value: JSON.stringify({ orderId: id }),
      headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/lis', ce_type: 'com.medlab.lab-order.placed', 'content-type': 'application/json', ...extra },
    });

    it('a record that is not a CloudEvent keeps its Kafka headers, as kafkaheader<name> extensions', async () => {
      const s = await sink(() => 200);
      const key = transport.keyOn(2, 'order-7');
      await transport.produce(topic, 2, [{ key, value: 'MSH|^~\\&|LIS|HCM-D1', headers: { 'X-Request-Id': 'req-1', Lab_Branch: 'hcm-d1', 'Content-Type': 'text/plain' } }]);
      await start({ source: source(s.url), sinkUrl: s.url });
      const hit = await eventually(() => s.hits[0], 'the record at the sink');
      assert.deepEqual(ceHeaders(hit.headers), {
        'ce-specversion': '1.0',
        'ce-id': 'partition:2/offset:0',
        'ce-type': 'dev.knative.kafka.event',
        'ce-source': `/apis/v1/namespaces/patient-portal/kafkasources/lab-orders-source#${topic}`,
        'ce-subject': 'partition:2#0',
        'ce-time': hit.headers['ce-time'],
        'ce-key': key,
        'ce-partitionkey': key,
        'ce-kafkaheaderxrequestid': 'req-1',
        'ce-kafkaheaderlabbranch': 'hcm-d1',
        'ce-knativekafkapartition': '2',
        'ce-knativekafkaoffset': '0',
      });
      assert.ok(!Number.isNaN(Date.parse(String(hit.headers['ce-time']))), 'time is the record timestamp');
      assert.equal(hit.headers['content-type'], 'text/plain');
      assert.equal(hit.body.toString(), 'MSH|^~\\&|LIS|HCM-D1');
    });

    it('a record that is a CloudEvent is delivered exactly as written, binary or structured (no partitionkey, no time added), with where it sat', async () => {
      const s = await sink(() => 200);
      const key = transport.keyOn(0, 'patient-9');
      const structured = { specversion: '1.0', id: 'structured-1', source: '/lis', type: 'com.medlab.lab-order.placed', subject: 'order-2', datacontenttype: 'application/json', data: { orderId: 'o-2' } };
      await transport.produce(topic, 0, [
        binaryEvent(key, 'binary-1', { ce_clinic: 'hcm-d1' }),
        { key, value: JSON.stringify(structured), headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' } },
      ]);
      await start({ source: source(s.url), sinkUrl: s.url });
      await eventually(() => s.hits.length >= 2, 'both records at the sink');
      const [binary, struct] = s.hits;
      const at = (offset: number) => ({ 'ce-knativekafkapartition': '0', 'ce-knativekafkaoffset': String(offset) });
      assert.deepEqual(ceHeaders(binary.headers), { 'ce-specversion': '1.0', 'ce-id': 'binary-1', 'ce-source': '/lis', 'ce-type': 'com.medlab.lab-order.placed', 'ce-clinic': 'hcm-d1', ...at(0) });
      assert.equal(binary.headers['content-type'], 'application/json');
      assert.equal(binary.body.toString(), '{"orderId":"binary-1"}');
      assert.deepEqual(ceHeaders(struct.headers), { 'ce-specversion': '1.0', 'ce-id': 'structured-1', 'ce-source': '/lis', 'ce-type': 'com.medlab.lab-order.placed', 'ce-subject': 'order-2', ...at(1) });
      assert.equal(struct.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(struct.body.toString()), { orderId: 'o-2' });
    });

    it('a dead-letter sink that refuses is tried under the delivery spec, then the loss is logged and counted, the offset committed, the next record delivered', async () => {
      const poison = `poison-${randomUUID()}`;
      const s = await sink((hit) => (hit.id === poison ? 400 : 200));
      const dls = await sink(() => 503);
      const { log, lines } = captureLog();
      const key = transport.keyOn(1, 'patient-lost');
      await transport.produce(topic, 1, [binaryEvent(key, poison), binaryEvent(key, 'after-poison')]);
      const d = await start({ source: source(s.url, { delivery: { retry: 2 } }), sinkUrl: s.url, deadLetterUrl: dls.url, log });

      await eventually(() => s.hits.some((h) => h.id === 'after-poison'), 'the record after the lost one to be delivered');
      assert.deepEqual(s.hits.map((h) => h.id), [poison, 'after-poison'], 'a 400 is not retried');
      assert.deepEqual(dls.hits.map((h) => h.id), [poison, poison, poison], 'the dead-letter sink: first try + 2 retries, then given up');
      assert.equal(dls.hits[0].headers['ce-knativeerrorcode'], '400');
      await eventually(() => d.counts.delivered === 1, 'the delivery to be counted');
      assert.equal(d.counts.lost, 1);
      assert.equal(d.counts['dead-lettered'], 0);
      await eventually(async () => (await committed(d, 1)) === 2, 'the offset committed past both records');

      const loss = lines.find((l) => l.level === 50 && /lost/i.test(l.msg));
      assert.ok(loss, `an error-level line for the loss: ${JSON.stringify(lines.map((l) => l.msg))}`);
      assert.deepEqual(
        { source: loss.source, topic: loss.topic, partition: loss.partition, offset: String(loss.offset), event: loss.event },
        { source: 'lab-orders-source', topic, partition: 1, offset: '0', event: { id: poison, type: 'com.medlab.lab-order.placed' } },
      );
      assert.ok(!lines.some((l) => JSON.stringify(l).includes('orderId')), 'no event data in the log');
    });

    it('partitions are independent: a record in retries on partition 1 does not hold back partition 2', async () => {
      const stuck = `stuck-${randomUUID()}`;
      const later = Array.from({ length: 5 }, (_, i) => `p2-${i}`);
      // The partition-1 record is refused until every partition-2 record has arrived: with partitions that
      // wait for each other this can only time out.
      const s = await sink((hit) => (hit.id === stuck && !later.every((id) => s.hits.some((h) => h.id === id)) ? 503 : 200));
      await transport.produce(topic, 1, [binaryEvent(transport.keyOn(1, 'patient-a'), stuck)]);
      await start({ source: source(s.url, { delivery: { retry: 1_000_000, backoffDelayMs: 10 } }), sinkUrl: s.url });
      await eventually(() => s.hits.some((h) => h.id === stuck), 'the partition-1 record to be in retries');
      await transport.produce(topic, 2, later.map((id) => binaryEvent(transport.keyOn(2, 'patient-b'), id)));
      await eventually(() => {
        const lastOfPartition2 = s.hits.findIndex((h) => h.id === 'p2-4');
        return lastOfPartition2 >= 0 && s.hits.slice(lastOfPartition2).some((h) => h.id === stuck);
      }, 'partition 2 delivered while partition 1 retries, then partition 1', 60_000);
      assert.deepEqual(s.hits.filter((h) => h.id.startsWith('p2-')).map((h) => h.id), later, 'partition 2 in order, once each');
    });

    it('a partition with more records than its lane holds is paused and resumed: every record once, in order, committed', async () => {
      const s = await sink(() => 200);
      const ids = Array.from({ length: 12 }, (_, i) => `order-${i}`);
      const key = transport.keyOn(0, 'patient-many');
      await transport.produce(topic, 0, ids.map((id) => binaryEvent(key, id)));
      const d = await start({ source: source(s.url), sinkUrl: s.url, partitionCapacity: 2 });
      await eventually(async () => (await committed(d, 0)) === 12, 'all 12 committed', 60_000);
      assert.deepEqual(s.hits.map((h) => h.id), ids);
    });

    it('unordered: records of a partition go side by side up to the bound, and the offset is committed only below the oldest unfinished one', async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `u-${i}`);
      const first = gate();
      const held: Array<{ id: string; release: (status: number) => void }> = [];
      // u-0 waits until the test lets it go. The others wait until the sink holds 3 requests (the bound)
      // or every record has arrived, then are answered: with no bound more than 3 would be in flight.
      const releaseOthers = () => { for (const h of held.splice(0)) h.release(200); };
      const s = await sink((hit) => {
        if (hit.id === 'u-0') return first.promise;
        return new Promise<number>((release) => {
          held.push({ id: hit.id, release });
          if (s.stats.inFlight >= 3 || ids.every((id) => s.hits.some((h) => h.id === id))) releaseOthers();
        });
      });
      const key = transport.keyOn(3, 'patient-u');
      await transport.produce(topic, 3, ids.map((id) => binaryEvent(key, id)));
      const d = await start({ source: source(s.url, { ordering: 'unordered' }), sinkUrl: s.url, partitionCapacity: 3 });

      await eventually(() => d.counts.delivered === 7, 'every record but u-0 answered');
      assert.equal(s.stats.maxInFlight, 3, 'at most 3 (the bound) in flight, and as many side by side');
      const before = await committed(d, 3);
      assert.ok(before === undefined || before === 0, `nothing committed while u-0 is unfinished (committed ${before})`);
      first.open(200);
      await eventually(async () => (await committed(d, 3)) === 8, 'all 8 committed once u-0 is answered');
      assert.deepEqual([...new Set(s.hits.map((h) => h.id))].sort(), ids);
      assert.equal(s.hits.length, 8, 'each once');
    });

    it('a rebalance in the middle: work of partitions that move is dropped uncommitted and read again by their new owner; nothing is lost', async () => {
      const answers = gate();
      const s = await sink(() => answers.promise);
      const ids = (p: number) => [0, 1, 2].map((i) => `p${p}-${i}`);
      for (const p of [0, 1, 2, 3]) await transport.produce(topic, p, ids(p).map((id) => binaryEvent(transport.keyOn(p, `patient-${p}`), id)));
      const d = await start({ source: source(s.url), sinkUrl: s.url });
      await eventually(() => s.hits.length === 4, 'the first record of each partition in flight');

      const scaling = d.setReplicas(2);
      if (transport.kind === 'kafka') {
        // Kafka moves partitions at once: the old member's deliveries of moved partitions are cut short.
        await scaling;
        await eventually(() => d.counts.interrupted >= 1, 'a moved partition\'s delivery interrupted', 60_000);
      }
      // (On the bus, a rebalance lets the deliveries in flight finish first.)
      answers.open(200);
      await scaling;
      for (const p of [0, 1, 2, 3]) await eventually(async () => (await committed(d, p)) === 3, `partition ${p} committed to its end`, 60_000);
      for (const p of [0, 1, 2, 3]) {
        const seen = s.hits.map((h) => h.id).filter((id) => id.startsWith(`p${p}-`));
        assert.deepEqual([...new Set(seen)], ids(p), `partition ${p}: every record, first deliveries in order (${seen})`);
      }
      assert.equal(d.counts.delivered, 12, 'each record delivered to the end once');
    });

    it('stop: a delivery in flight is interrupted, neither dead-lettered nor committed, and is delivered again', async () => {
      const s = await sink(() => new Promise<number>(() => undefined)); // never answers
      const dls = await sink(() => 200);
      const { log, lines } = captureLog();
      const group = `group-${topic}`;
      await transport.produce(topic, 0, [binaryEvent(transport.keyOn(0, 'patient-stop'), 'in-flight')]);
      const d = await start({ source: source(s.url, { group }), sinkUrl: s.url, deadLetterUrl: dls.url, log });
      await eventually(() => s.hits.length === 1, 'the record in flight');
      await d.stop();

      assert.deepEqual({ ...d.counts }, { delivered: 0, 'dead-lettered': 0, dropped: 0, lost: 0, interrupted: 1 });
      assert.equal(dls.hits.length, 0, 'not dead-lettered');
      const line = lines.find((l) => l.event?.id === 'in-flight' && l.outcome);
      assert.ok(line && line.level === 40 && /interrupted/.test(line.msg), `logged as interrupted: ${JSON.stringify(lines)}`);
      assert.ok(!lines.some((l) => /dropped/.test(l.msg)), 'not logged as dropped');
      const after = await committed(d, 0);
      assert.ok(after === undefined || after === 0, `not committed (committed ${after})`);

      // The group's next member reads it again from the committed offset.
      const again = await sink(() => 200);
      const next = await start({ source: source(again.url, { group }), sinkUrl: again.url, deadLetterUrl: dls.url });
      await eventually(() => again.hits.some((h) => h.id === 'in-flight'), 'the interrupted record delivered again');
      await eventually(async () => (await committed(next, 0)) === 1, 'and committed then');
    });
  });
}
