// Row 2 — event pipeline. Booking-request CloudEvents (Kafka binary mode: ce_* headers, JSON value, key =
// patientId) are produced to booking-requests and consumed by the KafkaSource-equivalent dispatcher
// (scripts/lib/runtime/dispatcher.ts, configured from knative/'s KafkaSource: its topic, consumer group, ordering and
// delivery spec), which delivers each one over HTTP to the booking-consumer function (compiled, under the
// faas-js-runtime CLI, as its container runs it); the function books the place in PostgreSQL with its inbox and
// outbox rows. Reference: a bare kafkajs consumer (same client settings) reading the same records from a copy of
// the topic and doing nothing with them. The dispatcher's group has spec.consumers members, as the KafkaSource declares.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Admin, Consumer, Producer, Message } from 'kafkajs';
import { kafkaClient } from '../functions/shared/kafka';
import { KafkaDispatcher } from '../scripts/lib/runtime/dispatcher';
import { loadManifests } from '../scripts/lib/manifests';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { shortFetchWait, FETCH_WAIT_MS } from './lib/kafka-fetch-wait';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const BRANCH = 'bench-b2';
const SERVICE = 'bench-draw-2';
const SLOTS = 200;
const CAPACITY = 1000;
const PATIENTS = 500;
const WARMUP_RECORDS = 16;
const REF_TOPIC_PREFIX = 'bench-booking-requests-copy';

interface Batch {
  ids: string[];
  messages: Message[];
}

function makeBatch(n: number, slots: string[]): Batch {
  const ids: string[] = [];
  const messages: Message[] = [];
  for (let i = 0; i < n; i++) {
    const requestId = randomUUID();
    const patientId = `bench-pp-${Math.floor(Math.random() * PATIENTS)}`;
    const slotId = slots[Math.floor(Math.random() * slots.length)];
    ids.push(requestId);
    messages.push({
      key: patientId,
      value: JSON.stringify({ requestId, patientId, slotId }),
      headers: {
        ce_specversion: '1.0',
        ce_id: requestId,
        ce_source: '/bench/portal',
        ce_type: 'com.medlab.booking.requested',
        ce_time: new Date().toISOString(),
        'content-type': 'application/json',
      },
    });
  }
  return { ids, messages };
}

/** Polls (bounded) until done() reaches target; resolves with Date.now() of the poll that saw it. */
async function until(done: () => number, target: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = done();
    if (n >= target) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what}: ${target - n} records not handled within ${timeoutMs / 1000} s`);
    await sleep(2);
  }
}

/** created_at of the booking row each request made, by requestId. */
async function bookedAt(pool: pg.Pool, ids: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ key: string; at: Date }>(
    `SELECT idempotency_key AS key, created_at AS at FROM booking_queue.booking WHERE idempotency_key = ANY($1::text[])`, [ids.map((id) => `request:${id}`)]);
  return new Map(rows.map((r) => [r.key.slice('request:'.length), r.at.getTime()]));
}

function latencies(ids: string[], from: (id: string) => number, to: Map<string, number>): { p50: number; p99: number } {
  const v = ids.filter((id) => to.has(id)).map((id) => to.get(id)! - from(id));
  return { p50: percentile(v, 50), p99: percentile(v, 99) };
}

interface Consumers {
  handled(): number;
}

/** Produces a batch at once and measures how fast the consumer side gets through it. */
async function burst(producer: Producer, topic: string, batch: Batch, c: Consumers, what: string): Promise<{ perSec: number; t0: number }> {
  const base = c.handled();
  const t0 = Date.now();
  await producer.send({ topic, messages: batch.messages, acks: -1 });
  const end = await until(() => c.handled(), base + batch.ids.length, 180_000, what);
  return { perSec: batch.ids.length / ((end - t0) / 1000), t0 };
}

/** Produces records one by one at a fixed rate; returns when each was sent (Date.now()). */
async function paced(producer: Producer, topic: string, batch: Batch, rate: number, c: Consumers, what: string): Promise<{ sentAt: Map<string, number>; achieved: number }> {
  const base = c.handled();
  const sentAt = new Map<string, number>();
  const sends: Promise<unknown>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < batch.ids.length; i++) {
    const wait = t0 + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    sentAt.set(batch.ids[i], Date.now());
    sends.push(producer.send({ topic, messages: [batch.messages[i]], acks: -1 }));
  }
  await Promise.all(sends);
  const end = await until(() => c.handled(), base + batch.ids.length, 180_000, what);
  return { sentAt, achieved: batch.ids.length / ((end - t0) / 1000) };
}

/** The batch spread over every partition explicitly, so its delivery proves each partition is assigned and fetched. */
function everyPartition(batch: Batch, partitions: number): Message[] {
  return batch.messages.map((m, i) => ({ ...m, partition: i % partitions }));
}

export async function eventPipeline(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const brokers = ctx.kafkaBrokers.split(',');
  shortFetchWait();
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  let fn: FunctionProcess | undefined;
  let dispatcher: KafkaDispatcher | undefined;
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let bare: Consumer | undefined;
  try {
    await pool.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench pipeline branch', 'Asia/Ho_Chi_Minh')`, [BRANCH]);
    await pool.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ($1, 'Bench blood draw 2', 'C', 5, false)`, [SERVICE]);
    const slots = (await pool.query<{ id: string }>(
      `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
       SELECT gen_random_uuid(), $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
       FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '3 days' + i * interval '5 minutes' AS t) x
       RETURNING id::text`, [BRANCH, SERVICE, CAPACITY, SLOTS])).rows.map((r) => r.id);

    const manifests = loadManifests();
    const source = manifests.kafkaSources.find((s) => s.sink.service === 'booking-consumer');
    if (!source) throw new Error('knative/ declares no KafkaSource for booking-consumer');
    const scaled = manifests.scaledObjects.find((x) => x.target.kind === 'KafkaSource' && x.target.name === source.name);
    const topic = source.topics[0];
    const refTopic = `${REF_TOPIC_PREFIX}-${process.pid}`;

    fn = await startFunctionProcess({
      name: 'booking-consumer',
      file: ctx.build.js('functions/booking-queue/booking-consumer/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/booking-consumer'),
      env: ctx.functionEnv('booking-consumer'),
    });

    producer = kafkaClient('bench-producer', brokers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    admin = kafkaClient('bench-admin', brokers).admin();
    await admin.connect();

    // Topics come into being with their first records (the mock broker gives them 4 partitions); the warm-up
    // records prove each consumer group has joined and fetches before anything is timed.
    let sent = 0;
    await producer.send({ topic, messages: makeBatch(1, slots).messages, acks: -1 });
    await producer.send({ topic: refTopic, messages: makeBatch(1, slots).messages, acks: -1 });
    sent += 1;
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;
    const refPartitions = (await admin.fetchTopicMetadata({ topics: [refTopic] })).topics[0]?.partitions.length ?? 1;
    const warmup = Math.max(WARMUP_RECORDS, partitions);
    const members = Math.max(1, source.consumers);

    // Reference: one bare kafkajs consumer, the same client settings as a dispatcher member, doing nothing.
    const bareAt = new Map<string, number>();
    const bareGroup = `bench-bare-${process.pid}`;
    bare = kafkaClient('bench-bare-consumer', brokers).consumer({ groupId: bareGroup, allowAutoTopicCreation: true, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
    await bare.connect();
    await bare.subscribe({ topic: refTopic, fromBeginning: true });
    await bare.run({
      autoCommit: true,
      partitionsConsumedConcurrently: 1,
      eachMessage: async ({ message }) => {
        const id = message.headers?.ce_id;
        if (id !== undefined) bareAt.set(String(id), Date.now());
      },
    });
    const bareSide: Consumers = { handled: () => bareAt.size };
    // kafkajs' run() resolves once the member has joined its group; records on every partition prove it fetches.
    await producer.send({ topic: refTopic, messages: everyPartition(makeBatch(warmup, slots), refPartitions), acks: -1 });
    await until(bareSide.handled, 1 + warmup, 90_000, 'bare consumer warm-up');

    const d = new KafkaDispatcher({ source, sinkUrl: fn.url }, brokers);
    dispatcher = d;
    const pipeSide: Consumers = { handled: () => d.counts.delivered + d.counts['dead-lettered'] + d.counts.dropped };
    // The group as the KafkaSource declares it (spec.consumers). KEDA may add members under a burst (keda/), but the
    // mock broker's group coordinator takes tens of seconds per rebalance (and fails some SyncGroups), so the bench
    // does not rescale the group.
    const t = Date.now();
    await d.setReplicas(members);
    ctx.log(`  group ${source.consumerGroup}: ${members} member(s) joined in ${Date.now() - t} ms`);
    await producer.send({ topic, messages: everyPartition(makeBatch(warmup, slots), partitions), acks: -1 });
    sent += warmup;
    await until(pipeSide.handled, sent, 90_000, 'dispatcher warm-up');

    const pipe: Array<{ perSec: number; p50: number; p99: number }> = [];
    const ref: Array<{ perSec: number; p50: number; p99: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const batch = makeBatch(config.events, slots);
      const b = await burst(producer, refTopic, batch, bareSide, `bare consumer run ${r + 1}`);
      ref.push({ perSec: b.perSec, ...latencies(batch.ids, () => b.t0, bareAt) });
      const p = await burst(producer, topic, batch, pipeSide, `pipeline run ${r + 1}`);
      sent += config.events;
      pipe.push({ perSec: p.perSec, ...latencies(batch.ids, () => p.t0, await bookedAt(pool, batch.ids)) });
      ctx.log(`  run ${r + 1}: pipeline ${fmt(pipe[r].perSec)} events/s, bare consumer ${fmt(ref[r].perSec)} events/s`);
    }

    const peak = median(pipe.map((p) => p.perSec));
    const rate = peak / 2;
    const count = Math.max(20, Math.round(rate * config.pacedSecs));
    const lat: Array<{ p50: number; p99: number; achieved: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const batch = makeBatch(count, slots);
      const p = await paced(producer, topic, batch, rate, pipeSide, `paced run ${r + 1}`);
      sent += count;
      lat.push({ achieved: p.achieved, ...latencies(batch.ids, (id) => p.sentAt.get(id)!, await bookedAt(pool, batch.ids)) });
      ctx.log(`  paced ${r + 1} at ${fmt(rate)} events/s: p50 ${ms(lat[r].p50)}, p99 ${ms(lat[r].p99)}`);
    }

    // The effect: one booking row per request, all confirmed; nothing dropped or dead-lettered.
    const { rows: [effect] } = await pool.query<{ n: string; confirmed: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE b.status = 'confirmed') AS confirmed
       FROM booking_queue.booking b JOIN booking_queue.slot s ON s.id = b.slot_id WHERE s.branch_id = $1 AND b.idempotency_key LIKE 'request:%'`, [BRANCH]);
    const counts = { ...d.counts };
    const problems: string[] = [];
    if (Number(effect.n) !== sent) problems.push(`${sent} requests produced but ${effect.n} booking rows made`);
    if (Number(effect.confirmed) !== sent) problems.push(`${sent - Number(effect.confirmed)} requests not confirmed`);
    if (counts['dead-lettered'] || counts.dropped) problems.push(`dispatcher: ${counts['dead-lettered']} dead-lettered, ${counts.dropped} dropped`);

    const refPeak = median(ref.map((p) => p.perSec));
    return {
      n: 2,
      name: 'Event pipeline (Kafka → KafkaSource dispatcher → booking-consumer → PostgreSQL)',
      result: `${fmt(peak)} events/s`,
      reference: `${fmt(refPeak)} events/s (bare kafkajs consumer)`,
      ratio: ratio(peak, refPeak),
      notes: [
        `end-to-end at half the peak (${fmt(rate)} events/s; produce call → booking row created_at): p50 ${ms(median(lat.map((l) => l.p50)))}, p99 ${ms(median(lat.map((l) => l.p99)))}`,
        `burst of ${config.events} (produce → booking row): p50 ${ms(median(pipe.map((p) => p.p50)))}, p99 ${ms(median(pipe.map((p) => p.p99)))}; bare consumer (produce → eachMessage) p50 ${ms(median(ref.map((p) => p.p50)))}, p99 ${ms(median(ref.map((p) => p.p99)))}`,
        `effect: ${effect.n} booking rows for ${sent} requests, ${effect.confirmed} confirmed; dispatcher delivered ${counts.delivered}, dead-lettered ${counts['dead-lettered']}, dropped ${counts.dropped}`,
      ],
      inputs: [
        `${config.events} booking.requested CloudEvents per run (binary mode, key = patientId of ${PATIENTS}, data {requestId, patientId, slotId} over ${SLOTS} slots × capacity ${CAPACITY}), produced in one send (acks all) while the consumers are idle; throughput = N / (first produce → last record handled)`,
        `dispatcher: KafkaDispatcher from knative/ KafkaSource ${source.name} (topic ${topic} with ${partitions} partitions, group ${source.consumerGroup}, ordering ${source.ordering}, retry ${source.delivery.retry} ${source.delivery.backoffPolicy}) with ${members} member(s) = spec.consumers${scaled ? ` (KEDA's ScaledObject ${scaled.name} may scale it to ${scaled.maxReplicaCount}; not done here: a rebalance on the mock broker takes tens of seconds)` : ''}; no dead-letter sink wired (failures are counted)`,
        `booking-consumer: compiled JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=10, outbox publishing to the Kafka mock broker`,
        `reference: 1 kafkajs consumer (same client settings as a dispatcher member, eachMessage does nothing) on ${refTopic}, a copy of the same records; ${config.repeats} runs alternating with the pipeline`,
        `latency: ${config.repeats} runs of ${count} events produced one by one at 50% of the median peak (${config.pacedSecs} s each)`,
        `Kafka: librdkafka mock cluster (kcat), 1 broker; it answers a fetch only when maxWaitTime runs out, so every consumer in the bench process (dispatcher members and reference alike) runs with kafkajs maxWaitTimeInMs=${FETCH_WAIT_MS} (bench/lib/kafka-fetch-wait.ts)`,
      ],
      runs: [
        `pipeline events/s: ${runs(pipe.map((p) => p.perSec))}`,
        `bare consumer events/s: ${runs(ref.map((p) => p.perSec))}`,
        `paced e2e p50 ms: ${runs(lat.map((l) => l.p50))}; p99 ms: ${runs(lat.map((l) => l.p99))}`,
      ],
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await dispatcher?.stop();
    await bare?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await fn?.stop();
    await pool.end();
  }
}
