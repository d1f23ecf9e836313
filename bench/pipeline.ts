// Row 2 — event pipeline. Booking-request CloudEvents (Kafka binary mode: ce_* headers, JSON value, key =
// patientId) are produced to booking-requests and consumed by the KafkaSource-equivalent dispatcher
// (scripts/lib/runtime/dispatcher.ts, configured from knative/'s KafkaSource: topic, consumer group, ordering,
// delivery spec), which delivers each one over HTTP to the booking-consumer function (built, under the
// faas-js-runtime CLI, as its container runs it); the function books the place in PostgreSQL with its inbox and
// outbox rows and publishes the events it emits after the commit.
// Reference: what a seed system's consumer would be — one long-running kafkajs consumer (a group member,
// eachMessage, partitionsConsumedConcurrently = partitions: one record at a time per partition, the order
// Knative's "ordered" delivery keeps) that, for each record, runs with plain pg (a pool of the function's size)
// BEGIN, the statements booking-consumer's transaction sends (captured on the wire for one event, replayed
// with this record's values), COMMIT, then sends the events booking-consumer emits (same topics, keys, headers
// and sizes, read back from Kafka after the capture) and awaits the send before taking the next record.
// Both read the same kind of records from topics with the same partitions (the reference from a copy topic).
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Admin, Consumer, Producer, Message, IHeaders } from 'kafkajs';
import { kafkaClient } from '../functions/shared/kafka';
import { topics as systemTopics } from '../functions/booking-queue/events';
import { KafkaDispatcher } from '../scripts/lib/runtime/dispatcher';
import { recordToEvent, wireHttpMessage } from '../scripts/lib/runtime/cloudevents';
import { loadManifests, type KafkaSourceManifest } from '../scripts/lib/manifests';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { shortFetchWait, FETCH_WAIT_MS } from './lib/kafka-fetch-wait';
import { startPgCapture, splitAtCommit, describeStatements, type WireStatement } from './lib/pg-wire';
import { Splitter, templateOf, valuesFor, fill, writesByTable, tableCounts, type Part, type Template } from './lib/replay';
import { scrape, meanBetween, type Sample } from './lib/prometheus';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';

const BRANCH = 'bench-b2';
const SERVICE = 'bench-draw-2';
/** Request number i books patient i mod PATIENTS in slot (i + ⌊i/PATIENTS⌋) mod SLOTS: no pair repeats below
 *  PATIENTS × SLOTS (gcd(PATIENTS + 1, SLOTS) = 1), so every request books and the replay never meets a refusal. */
const PATIENTS = 500;
const SLOTS = 200;
const CAPACITY = 1000;
const WARMUP_RECORDS = 16;
const CAPTURE_WARMUP = 2;
const REF_TOPIC_PREFIX = 'bench-booking-requests-copy';
const FUNCTION_NAME = 'booking-consumer';

const pairOf = (i: number) => ({ patient: i % PATIENTS, slot: (i + Math.floor(i / PATIENTS)) % SLOTS });

interface Batch {
  ids: string[];
  messages: Message[];
}

function makeBatch(n: number, nextI: () => number, slots: string[]): Batch {
  const ids: string[] = [];
  const messages: Message[] = [];
  for (let k = 0; k < n; k++) {
    const { patient, slot } = pairOf(nextI());
    const requestId = randomUUID();
    const patientId = `bench-pp-${patient}`;
    ids.push(requestId);
    messages.push({
      key: patientId,
      value: JSON.stringify({ requestId, patientId, slotId: slots[slot] }),
      headers: {
        ce_specversion: '1.0',
        ce_id: randomUUID(),
        ce_source: '/bench/portal',
        ce_type: 'com.medlab.booking.requested',
        ce_time: new Date().toISOString(),
        'content-type': 'application/json',
      },
    });
  }
  return { ids, messages };
}

const headerText = (h: IHeaders | undefined, name: string): string | undefined => {
  const v = h?.[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
};

/** The request's own values in a record: what the replay substitutes. */
function tokensOf(message: { value: Buffer | string | null; headers?: IHeaders }): Record<string, string> {
  const data = JSON.parse(String(message.value)) as { requestId: string; patientId: string; slotId: string };
  return { requestId: data.requestId, patientId: data.patientId, slotId: data.slotId, eventId: headerText(message.headers, 'ce_id') ?? '' };
}

interface RecordTemplate {
  topic: string;
  key: Part[] | null;
  headers: Array<[string, Part[]]>;
  value: Part[] | null;
  /** As captured, for the report. */
  bytes: number;
}

interface Capture {
  request: WireStatement[];
  afterCommit: WireStatement[];
  template: Template;
  records: RecordTemplate[];
}

/**
 * One event through a booking-consumer whose database connection goes through the wire-protocol relay (after
 * CAPTURE_WARMUP unrecorded ones), delivered over HTTP exactly as the dispatcher delivers it; then the records it
 * published, read back from the system's topics (matched by the CloudEvent ids the transaction made up).
 */
async function captureConsumer(ctx: BenchContext, env: NodeJS.ProcessEnv, source: KafkaSourceManifest, batch: Batch): Promise<Capture> {
  const brokers = ctx.kafkaBrokers.split(',');
  const relay = await startPgCapture(ctx.databaseUrl);
  const topics = Object.values(systemTopics);
  let fn: FunctionProcess | undefined;
  let reader: Consumer | undefined;
  const admin = kafkaClient('bench-capture-admin', brokers).admin();
  try {
    await admin.connect();
    const startAt = new Map<string, string>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      for (const p of offsets) startAt.set(`${topic}/${p.partition}`, p.high);
    }
    fn = await startFunctionProcess({
      name: `${FUNCTION_NAME} (capture)`,
      file: ctx.build.js('functions/booking-queue/booking-consumer/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/booking-consumer'),
      env: { ...env, DATABASE_URL: relay.url },
    });
    let window: WireStatement[] = [];
    let tokens: Record<string, string> = {};
    for (let k = 0; k <= CAPTURE_WARMUP; k++) {
      const m = batch.messages[k];
      const headers: Record<string, string> = {};
      for (const [name, v] of Object.entries(m.headers ?? {})) headers[name] = String(v);
      const wire = wireHttpMessage(recordToEvent({ topic: source.topics[0], partition: 0, offset: k, key: String(m.key), value: Buffer.from(String(m.value)), headers, timestamp: Date.now() }, source));
      const from = relay.statements().length;
      const res = await fetch(fn.url, { method: 'POST', headers: wire.headers, body: wire.body && new Uint8Array(wire.body), signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('processed')) throw new Error(`the capture event answered ${res.status}: ${text.slice(0, 300)}`);
      await sleep(300);
      if (k === CAPTURE_WARMUP) {
        window = relay.statements().slice(from);
        tokens = tokensOf({ value: String(m.value), headers: m.headers });
      }
    }
    const { request, afterCommit } = splitAtCommit(window);
    const failed = request.find((s) => s.error);
    if (failed) throw new Error(`a captured statement failed: ${failed.error} (${failed.sql.slice(0, 200)})`);
    const splitter = new Splitter(tokens);
    const template = templateOf(request, splitter);
    const madeUp = new Set(splitter.freshIds());

    // The records it published: CloudEvents whose id the transaction made up.
    const found: Array<{ topic: string; key: Buffer | null; headers: IHeaders; value: Buffer | null }> = [];
    reader = kafkaClient('bench-capture-reader', brokers).consumer({ groupId: `bench-capture-${process.pid}`, allowAutoTopicCreation: true });
    await reader.connect();
    for (const topic of topics) await reader.subscribe({ topic, fromBeginning: true });
    let lastFound = 0;
    await reader.run({
      eachMessage: async ({ topic, message }) => {
        const id = headerText(message.headers, 'ce_id');
        if (id && madeUp.has(id.toLowerCase())) { found.push({ topic, key: message.key, headers: message.headers ?? {}, value: message.value }); lastFound = Date.now(); }
      },
    });
    for (const [tp, offset] of startAt) {
      const cut = tp.lastIndexOf('/');
      reader.seek({ topic: tp.slice(0, cut), partition: Number(tp.slice(cut + 1)), offset });
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(found.length && Date.now() - lastFound > 1500)) await sleep(100);
    if (!found.length) throw new Error(`no record published by the captured event was found on ${topics.join(', ')} within 30 s`);
    const records = found.map((r) => ({
      topic: r.topic,
      key: r.key === null ? null : splitter.split(r.key.toString('utf8')),
      headers: Object.keys(r.headers).map((h) => [h, splitter.split(headerText(r.headers, h) ?? '')] as [string, Part[]]),
      value: r.value === null ? null : splitter.split(r.value.toString('utf8')),
      bytes: (r.value?.length ?? 0) + (r.key?.length ?? 0) + Object.entries(r.headers).reduce((a, [h, v]) => a + h.length + String(v).length, 0),
    }));
    return { request, afterCommit, template, records };
  } finally {
    await reader?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await fn?.stop();
    await relay.close();
  }
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
async function burst(producer: Producer, topic: string, batch: Batch, c: Consumers, what: string): Promise<{ perSec: number; t0: number; ms: number }> {
  const base = c.handled();
  const t0 = Date.now();
  await producer.send({ topic, messages: batch.messages, acks: -1 });
  const end = await until(() => c.handled(), base + batch.ids.length, 180_000, what);
  return { perSec: batch.ids.length / ((end - t0) / 1000), t0, ms: end - t0 };
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

/** The dispatcher's HTTP round trips to the sink (to the answer's headers), timed in this process: it delivers with fetch. */
function timeRoundTrips(sinkUrl: string): { take(): { n: number; totalMs: number }; restore(): void } {
  const original = globalThis.fetch;
  let n = 0;
  let totalMs = 0;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!target.startsWith(sinkUrl)) return original(input, init);
    const t = performance.now();
    const res = await original(input, init);
    totalMs += performance.now() - t;
    n++;
    return res;
  }) as typeof fetch;
  return {
    take: () => { const r = { n, totalMs }; n = 0; totalMs = 0; return r; },
    restore: () => { globalThis.fetch = original; },
  };
}

const PHASES = ['validation', 'transaction', 'publish'] as const;

export async function eventPipeline(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const brokers = ctx.kafkaBrokers.split(',');
  shortFetchWait();
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  let fn: FunctionProcess | undefined;
  let dispatcher: KafkaDispatcher | undefined;
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let reference: Consumer | undefined;
  let refProducer: Producer | undefined;
  let refPool: pg.Pool | undefined;
  let trips: ReturnType<typeof timeRoundTrips> | undefined;
  try {
    await pool.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ($1, 'Bench pipeline branch', 'Asia/Ho_Chi_Minh')`, [BRANCH]);
    await pool.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes, requires_confirmation) VALUES ($1, 'Bench blood draw 2', 'C', 5, false)`, [SERVICE]);
    const slots = (await pool.query<{ id: string }>(
      `INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at)
       SELECT gen_random_uuid(), $1, $2, t, t + interval '5 minutes', $3, 0, 'open', now()
       FROM generate_series(0, $4 - 1) i, LATERAL (SELECT date_trunc('minute', now()) + interval '3 days' + i * interval '5 minutes' AS t) x
       RETURNING id::text`, [BRANCH, SERVICE, CAPACITY, SLOTS])).rows.map((r) => r.id);
    let next = 0;
    const nextI = () => {
      if (next >= PATIENTS * SLOTS) throw new Error(`more than ${PATIENTS * SLOTS} requests: lower BENCH_EVENTS`);
      return next++;
    };

    const manifests = loadManifests();
    const source = manifests.kafkaSources.find((s) => s.sink.service === FUNCTION_NAME);
    if (!source) throw new Error(`knative/ declares no KafkaSource for ${FUNCTION_NAME}`);
    const scaled = manifests.scaledObjects.find((x) => x.target.kind === 'KafkaSource' && x.target.name === source.name);
    const topic = source.topics[0];
    const refTopic = `${REF_TOPIC_PREFIX}-${process.pid}`;
    // The daily cap per patient is lifted as in row 1: the pool's patients book far more than a real one would.
    const env = ctx.functionEnv(FUNCTION_NAME, { BOOKING_DAILY_LIMIT: '100000' });
    const poolSize = Number(env.DATABASE_POOL_SIZE ?? 10);

    const capture = await captureConsumer(ctx, env, source, makeBatch(CAPTURE_WARMUP + 1, nextI, slots));
    let sent = CAPTURE_WARMUP + 1;
    const captured = writesByTable(capture.request);
    const inserted = [...captured].filter(([, w]) => w.insert > 0).map(([t]) => t);
    ctx.log(`  captured ${capture.request.length} statements and ${capture.records.length} published record(s) for one event; rows written: ${[...captured].map(([t, w]) => `${t} ${JSON.stringify(w)}`).join('; ')}`);

    fn = await startFunctionProcess({
      name: FUNCTION_NAME,
      file: ctx.build.js('functions/booking-queue/booking-consumer/index.ts'),
      cwd: path.join(ROOT, 'functions/booking-queue/booking-consumer'),
      env,
    });

    producer = kafkaClient('bench-producer', brokers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    admin = kafkaClient('bench-admin', brokers).admin();
    await admin.connect();

    // Topics come into being with their first records (the mock broker gives them 4 partitions); the warm-up
    // records prove each consumer group has joined and fetches before anything is timed.
    await producer.send({ topic, messages: makeBatch(1, nextI, slots).messages, acks: -1 });
    await producer.send({ topic: refTopic, messages: makeBatch(1, nextI, slots).messages, acks: -1 });
    sent += 1;
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;
    const refPartitions = (await admin.fetchTopicMetadata({ topics: [refTopic] })).topics[0]?.partitions.length ?? 1;
    const warmup = Math.max(WARMUP_RECORDS, partitions);
    const members = Math.max(1, source.consumers);

    // The reference consumer.
    refPool = new pg.Pool({ connectionString: ctx.databaseUrl, max: poolSize });
    refProducer = kafkaClient('bench-reference-publisher', brokers).producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true });
    await refProducer.connect();
    const refDone = new Map<string, number>();
    const refPhase = { transactionMs: 0, publishMs: 0, n: 0 };
    let refErrors = 0;
    let refFirstError: string | undefined;
    const { template, records } = capture;
    const rp = refProducer;
    const rpool = refPool;
    reference = kafkaClient('bench-reference-consumer', brokers).consumer({
      groupId: `bench-reference-${process.pid}`, allowAutoTopicCreation: true, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 1000,
    });
    await reference.connect();
    await reference.subscribe({ topic: refTopic, fromBeginning: true });
    await reference.run({
      partitionsConsumedConcurrently: refPartitions,
      eachMessage: async ({ message }) => {
        const t0 = performance.now();
        const tokens = tokensOf(message);
        const fresh = Array.from({ length: template.freshCount }, () => randomUUID());
        const client = await rpool.connect();
        try {
          for (const s of template.statements) {
            const values = valuesFor(s, tokens, fresh);
            await (values.length ? client.query({ text: s.sql, values }) : client.query(s.sql));
          }
        } catch (err) {
          refErrors++;
          refFirstError ??= (err as Error).message;
          await client.query('ROLLBACK').catch(() => undefined);
        } finally {
          client.release();
        }
        const t1 = performance.now();
        const byTopic = new Map<string, Message[]>();
        for (const r of records) {
          const m: Message = {
            key: r.key && fill(r.key, tokens, fresh),
            value: r.value && fill(r.value, tokens, fresh),
            headers: Object.fromEntries(r.headers.map(([h, parts]) => [h, fill(parts, tokens, fresh)])),
          };
          byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), m]);
        }
        await rp.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([t, messages]) => ({ topic: t, messages })) });
        const t2 = performance.now();
        refPhase.transactionMs += t1 - t0;
        refPhase.publishMs += t2 - t1;
        refPhase.n++;
        refDone.set(tokens.requestId, Date.now());
      },
    });
    const refSide: Consumers = { handled: () => refDone.size };
    // kafkajs' run() resolves once the member has joined its group; records on every partition prove it fetches.
    await producer.send({ topic: refTopic, messages: everyPartition(makeBatch(warmup, nextI, slots), refPartitions), acks: -1 });
    await until(refSide.handled, 1 + warmup, 90_000, 'reference consumer warm-up');

    const d = new KafkaDispatcher({ source, sinkUrl: fn.url }, brokers);
    dispatcher = d;
    const pipeSide: Consumers = { handled: () => d.counts.delivered + d.counts['dead-lettered'] + d.counts.dropped };
    // The group as the KafkaSource declares it (spec.consumers). KEDA may add members under a burst (keda/), but the
    // mock broker's group coordinator takes tens of seconds per rebalance (and fails some SyncGroups), so the bench
    // does not rescale the group.
    const t = Date.now();
    await d.setReplicas(members);
    ctx.log(`  group ${source.consumerGroup}: ${members} member(s) joined in ${Date.now() - t} ms`);
    await producer.send({ topic, messages: everyPartition(makeBatch(warmup, nextI, slots), partitions), acks: -1 });
    sent += warmup;
    await until(pipeSide.handled, 1 + warmup, 90_000, 'dispatcher warm-up');

    trips = timeRoundTrips(fn.url);
    const rowCounts = () => tableCounts(pool, inserted);
    const perEvent = (a: Record<string, number>, b: Record<string, number>, n: number) => Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] - a[k]) / n]));
    const pipe: Array<{ perSec: number; p50: number; p99: number; tripMs: number; execMs?: number; phases: Record<string, number | undefined>; perEvent: Record<string, number> }> = [];
    const ref: Array<{ perSec: number; p50: number; p99: number; transactionMs: number; publishMs: number; perEvent: Record<string, number> }> = [];
    let phasesExposed = false;
    for (let r = 0; r < config.repeats; r++) {
      const refBatch = makeBatch(config.events, nextI, slots);
      refPhase.transactionMs = 0; refPhase.publishMs = 0; refPhase.n = 0;
      const e0 = await rowCounts();
      const b = await burst(producer, refTopic, refBatch, refSide, `reference run ${r + 1}`);
      const e1 = await rowCounts();
      ref.push({
        perSec: b.perSec, ...latencies(refBatch.ids, () => b.t0, refDone),
        transactionMs: refPhase.transactionMs / refPhase.n, publishMs: refPhase.publishMs / refPhase.n, perEvent: perEvent(e0, e1, config.events),
      });

      const batch = makeBatch(config.events, nextI, slots);
      const m0: Sample[] = await scrape(fn.url);
      trips.take();
      const p = await burst(producer, topic, batch, pipeSide, `pipeline run ${r + 1}`);
      const rt = trips.take();
      const m1: Sample[] = await scrape(fn.url);
      const e2 = await rowCounts();
      sent += config.events;
      const exec = meanBetween(m0, m1, 'faas_execution_latency');
      const phases: Record<string, number | undefined> = {};
      for (const ph of PHASES) {
        const v = meanBetween(m0, m1, 'event_phase_duration_seconds', { function: FUNCTION_NAME, phase: ph });
        phases[ph] = v ? v.mean * 1000 : undefined;
        if (v) phasesExposed = true;
      }
      pipe.push({
        perSec: p.perSec, ...latencies(batch.ids, () => p.t0, await bookedAt(pool, batch.ids)),
        tripMs: rt.totalMs / rt.n, execMs: exec ? exec.mean * 1000 : undefined, phases, perEvent: perEvent(e1, e2, config.events),
      });
      ctx.log(`  run ${r + 1}: pipeline ${fmt(pipe[r].perSec)} events/s, reference consumer ${fmt(ref[r].perSec)} events/s`);
    }
    trips.restore();
    trips = undefined;

    const peak = median(pipe.map((p) => p.perSec));
    const rate = peak / 2;
    const count = Math.max(20, Math.round(rate * config.pacedSecs));
    const lat: Array<{ p50: number; p99: number; achieved: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const batch = makeBatch(count, nextI, slots);
      const p = await paced(producer, topic, batch, rate, pipeSide, `paced run ${r + 1}`);
      sent += count;
      lat.push({ achieved: p.achieved, ...latencies(batch.ids, (id) => p.sentAt.get(id)!, await bookedAt(pool, batch.ids)) });
      ctx.log(`  paced ${r + 1} at ${fmt(rate)} events/s: p50 ${ms(lat[r].p50)}, p99 ${ms(lat[r].p99)}`);
    }

    // The effect: one booking row per request, all confirmed, on both sides; nothing dropped or dead-lettered.
    const { rows: [effect] } = await pool.query<{ n: string; confirmed: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE b.status = 'confirmed') AS confirmed
       FROM booking_queue.booking b JOIN booking_queue.slot s ON s.id = b.slot_id WHERE s.branch_id = $1 AND b.idempotency_key LIKE 'request:%'`, [BRANCH]);
    const refTotal = refDone.size;
    const counts = { ...d.counts };
    const capturedPerEvent = Object.fromEntries(inserted.map((tb) => [tb, captured.get(tb)!.insert]));
    const show = (x: Record<string, number>) => Object.entries(x).map(([k, v]) => `${k.split('.').pop()} ${fmt(v)}`).join(', ');
    const same = (a: Record<string, number>, b: Record<string, number>) => Object.keys(a).every((k) => Math.abs(a[k] - b[k]) < 0.005);
    const problems: string[] = [];
    if (Number(effect.n) !== sent + refTotal) problems.push(`${sent} requests through the pipeline and ${refTotal} through the reference, but ${effect.n} booking rows made`);
    if (Number(effect.confirmed) !== Number(effect.n)) problems.push(`${Number(effect.n) - Number(effect.confirmed)} bookings not confirmed`);
    if (counts['dead-lettered'] || counts.dropped) problems.push(`dispatcher: ${counts['dead-lettered']} dead-lettered, ${counts.dropped} dropped`);
    if (refErrors) problems.push(`the reference consumer's replay failed ${refErrors} time(s): ${refFirstError}`);
    for (const [r, x] of pipe.entries()) if (!same(capturedPerEvent, x.perEvent)) problems.push(`pipeline run ${r + 1} wrote ${show(x.perEvent)} per event; the captured event wrote ${show(capturedPerEvent)}`);
    for (const [r, x] of ref.entries()) if (!same(capturedPerEvent, x.perEvent)) problems.push(`reference run ${r + 1} wrote ${show(x.perEvent)} per event; the captured event wrote ${show(capturedPerEvent)}`);

    const refPeak = median(ref.map((p) => p.perSec));
    const perEventMs = (partitions * 1000) / peak;
    const refPerEventMs = (refPartitions * 1000) / refPeak;
    const trip = median(pipe.map((p) => p.tripMs));
    const execMs = median(pipe.map((p) => p.execMs ?? NaN));
    const phase = (ph: string) => median(pipe.map((p) => p.phases[ph] ?? NaN));
    const refTx = median(ref.map((p) => p.transactionMs));
    const refPub = median(ref.map((p) => p.publishMs));
    const phaseLine = phasesExposed
      ? PHASES.map((ph) => `${ph} ${ms(phase(ph))}`).join(', ')
      : `validation, transaction, publish: not exposed (booking-consumer's GET /metrics has no event_phase_duration_seconds histogram)`;
    return {
      n: 2,
      name: 'Event pipeline (Kafka → KafkaSource dispatcher → booking-consumer → PostgreSQL → Kafka)',
      result: `${fmt(peak)} events/s`,
      reference: `${fmt(refPeak)} events/s (kafkajs consumer, same transaction with pg, same sends)`,
      ratio: ratio(peak, refPeak),
      target: '≥ 1.0×',
      met: peak / refPeak >= 1,
      notes: [
        `per event, mean, one partition (${partitions} in flight): pipeline ${ms(perEventMs)} = dispatcher → function round trip ${ms(trip)} [function's own time (faas_execution_latency) ${ms(execMs)}; delivery (round trip − function's time) ${ms(trip - execMs)}; ${phaseLine}] + Kafka and dispatcher between deliveries (fetch, lane, offset commit) ${ms(perEventMs - trip)}`,
        `per event, mean, one partition (${refPartitions} in flight): reference ${ms(refPerEventMs)} = transaction with pg ${ms(refTx)} + publish (sendBatch, acks all) ${ms(refPub)} + Kafka between records ${ms(refPerEventMs - refTx - refPub)}`,
        `rows written per event: captured ${show(capturedPerEvent)}; pipeline runs ${pipe.map((x) => show(x.perEvent)).join(' / ')}; reference runs ${ref.map((x) => show(x.perEvent)).join(' / ')}`,
        `end-to-end at half the peak (${fmt(rate)} events/s; produce call → booking row created_at): p50 ${ms(median(lat.map((l) => l.p50)))}, p99 ${ms(median(lat.map((l) => l.p99)))}`,
        `burst of ${config.events} (produce → booking row): p50 ${ms(median(pipe.map((p) => p.p50)))}, p99 ${ms(median(pipe.map((p) => p.p99)))}; reference (produce → record done) p50 ${ms(median(ref.map((p) => p.p50)))}, p99 ${ms(median(ref.map((p) => p.p99)))}`,
        `effect: ${effect.n} booking rows for ${sent} pipeline + ${refTotal} reference requests, ${effect.confirmed} confirmed; dispatcher delivered ${counts.delivered}, dead-lettered ${counts['dead-lettered']}, dropped ${counts.dropped}`,
      ],
      inputs: [
        `${config.events} booking.requested CloudEvents per run (binary mode, key = patientId of ${PATIENTS}, data {requestId, patientId, slotId} over ${SLOTS} slots × capacity ${CAPACITY}, no (patient, slot) pair twice), produced in one send (acks all) while the consumers are idle; throughput = N / (first produce → last record handled)`,
        `dispatcher: KafkaDispatcher from knative/ KafkaSource ${source.name} (topic ${topic} with ${partitions} partitions, group ${source.consumerGroup}, ordering ${source.ordering}, retry ${source.delivery.retry} ${source.delivery.backoffPolicy}) with ${members} member(s) = spec.consumers${scaled ? ` (KEDA's ScaledObject ${scaled.name} may scale it to ${scaled.maxReplicaCount}; not done here: a rebalance on the mock broker takes tens of seconds)` : ''}; no dead-letter sink wired (failures are counted)`,
        `${FUNCTION_NAME}: built JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=${poolSize}, BOOKING_DAILY_LIMIT lifted, outbox publishing to the Kafka mock broker after commit`,
        `reference: 1 kafkajs consumer (group member, eachMessage, partitionsConsumedConcurrently=${refPartitions}) on ${refTopic} (${refPartitions} partitions, a copy topic with records of the same shape); per record, with pg (pool of ${poolSize}): the ${capture.request.length} statements below (BEGIN … COMMIT, as captured on the wire from ${FUNCTION_NAME} for one event after ${CAPTURE_WARMUP} unrecorded ones, with this record's requestId, patientId, slotId and CloudEvent id, fresh made-up ids), then one sendBatch (acks all, 1 request in flight, as the outbox publisher's producer) of the ${capture.records.length} record(s) ${FUNCTION_NAME} published for it: ${capture.records.map((r) => `${r.topic} ~${r.bytes} B`).join(', ')}; ${config.repeats} runs alternating with the pipeline`,
        `per-event phases: round trip timed around the dispatcher's fetch in this process; function's own time and phases from ${FUNCTION_NAME}'s GET /metrics (faas_execution_latency, event_phase_duration_seconds{function,phase}) read before and after each run`,
        `latency: ${config.repeats} runs of ${count} events produced one by one at 50% of the median peak (${config.pacedSecs} s each)`,
        `Kafka: librdkafka mock cluster (kcat), 1 broker; it answers a fetch only when maxWaitTime runs out, so every kafkajs consumer in the bench process (dispatcher members, which ask for 1000 ms, and the reference alike) runs with maxWaitTimeInMs=${FETCH_WAIT_MS} (bench/lib/kafka-fetch-wait.ts)`,
      ],
      runs: [
        `pipeline events/s: ${runs(pipe.map((p) => p.perSec))}`,
        `reference events/s: ${runs(ref.map((p) => p.perSec))}`,
        `round trip ms: ${runs(pipe.map((p) => p.tripMs))}; function's own time ms: ${runs(pipe.map((p) => p.execMs ?? NaN))}`,
        `reference transaction ms: ${runs(ref.map((p) => p.transactionMs))}; publish ms: ${runs(ref.map((p) => p.publishMs))}`,
        `paced e2e p50 ms: ${runs(lat.map((l) => l.p50))}; p99 ms: ${runs(lat.map((l) => l.p99))}`,
      ],
      appendix: [
        `What ${FUNCTION_NAME} sent for one event (wire capture; the reference replays these):`,
        '',
        ...describeStatements(capture.request),
        '',
        'After the commit (the outbox publisher; the reference sends the records itself instead):',
        '',
        ...describeStatements(capture.afterCommit),
      ].join('\n'),
      ok: problems.length === 0,
      problems,
    };
  } finally {
    trips?.restore();
    await dispatcher?.stop();
    await reference?.disconnect().catch(() => undefined);
    await refProducer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await fn?.stop();
    await refPool?.end().catch(() => undefined);
    await pool.end();
  }
}
