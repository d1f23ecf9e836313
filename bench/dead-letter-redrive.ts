// Row 9 — redrive throughput: a group of dead letters republished by the redrive runner (functions/dead-letter/
// redrive.ts: lease, note where the partitions end, read a batch, build each record from the kept event and
// mark it, send, record the batch: its letters resolved, the task's cursor moved) to the Kafka mock broker,
// against a bare kafkajs producer sending the same records (built beforehand, untimed) in batches of the same
// size to a topic of its own, in the same run. Besides the wall clock, the CPU time each side takes per 1,000
// records (this process, and the database's backends serving the redrive): the figure a shared machine moves least.
//
// The API caps a redrive at 500 records a second (SQS's redrive limit), which would make this a measure of the
// cap. The measured runs lift it explicitly (runTask's rateCap: Infinity, a benchmark-only option); one paced
// run at the cap shows the rate the API promises is the rate it keeps. The runner runs in this process, with
// its own database (bench_<pid>_redrive) and the run's broker.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Admin, Producer } from 'kafkajs';
import type { BenchContext, Row } from './lib/context';
import { median, fmt, ratio, runs } from './lib/stats';
import { applyMigrations } from '../scripts/lib/migrations';
import { kafkaClient } from '../functions/shared/kafka';
import { closeBus } from '../functions/shared/bus';
import { closeDb, db } from '../functions/shared/db';
import { batchSize, createTask, recordOf, runTask, runnerId, MAX_RATE } from '../functions/dead-letter/redrive-task';

const LETTERS = Number(process.env.BENCH_REDRIVE_LETTERS ?? 20_000);
const PACED_LETTERS = 2_000;
const KEYS = 1_000;
const PARTITIONS = 4;
/** What the runner sends per batch with the cap lifted: the same batches for the reference. */
const BATCH = batchSize(Number.MAX_SAFE_INTEGER);
/** The rate the measured tasks ask for (the API would refuse it): with the cap lifted, no pacing at all. */
const UNPACED = 1_000_000;

/** A group of `n` letters as the intake keeps them: booking requests booking-consumer failed on (HTTP 500). */
async function keepLetters(n: number, topic: string, group: string): Promise<void> {
  await db().$executeRaw`
    INSERT INTO dead_letter.dead_letter (id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code, error_data,
      reason, fingerprint, event, system, partition, kafka_offset, record_key, status, status_by)
    SELECT gen_random_uuid(), e.id, '/portal', 'com.medlab.booking.requested', ${topic}, 'booking-consumer-source', 'booking-consumer',
      'http://booking-consumer.patient-portal.svc.cluster.local', 500, 'eyJ0aXRsZSI6IkludGVybmFsIFNlcnZlciBFcnJvciJ9',
      'Internal Server Error: the consumer failed; the error is logged', ${group},
      jsonb_build_object('id', e.id, 'source', '/portal', 'type', 'com.medlab.booking.requested', 'specversion', '1.0',
        'time', '2026-11-22T08:00:00.000Z', 'datacontenttype', 'application/json', 'partitionkey', e.key,
        'traceparent', '00-' || md5(e.id) || '-' || substr(md5(e.key), 1, 16) || '-01',
        'knativeerrordest', 'http://booking-consumer.patient-portal.svc.cluster.local', 'knativeerrorcode', '500',
        'knativeerrordata', 'eyJ0aXRsZSI6IkludGVybmFsIFNlcnZlciBFcnJvciJ9',
        'knativekafkapartition', (e.i % ${PARTITIONS})::text, 'knativekafkaoffset', (e.i / ${PARTITIONS})::text,
        'data', jsonb_build_object('requestId', gen_random_uuid(), 'patientId', e.key, 'slotId', gen_random_uuid(), 'channel', 'portal')),
      'booking-queue', e.i % ${PARTITIONS}, e.i / ${PARTITIONS}, e.key, 'open', 'intake'
    FROM (SELECT i, gen_random_uuid()::text AS id, 'p-' || (i % ${KEYS}) AS key FROM generate_series(0, ${n - 1}) AS i) e`;
}

/** Topics come into being when a producer first asks for their metadata (the mock broker gives them 4 partitions). */
async function createTopics(producer: Producer, ...topics: string[]): Promise<void> {
  for (const topic of topics) await producer.send({ topic, messages: [] });
}

/** CPU time (user + system, ms) a process has used so far (/proc/<pid>/stat, clock ticks); NaN where /proc cannot tell. */
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100);
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

/**
 * CPU time so far of this process and of the PostgreSQL backends serving the run's database: what the redrive
 * costs, which the other work on a shared machine moves far less than it moves the wall clock.
 */
async function cpuNow(): Promise<{ self: number; db: Map<number, number> }> {
  const backends = await db().$queryRaw<Array<{ pid: number }>>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
  return { self: cpuMs(process.pid), db: new Map(backends.map((b) => [b.pid, cpuMs(b.pid)])) };
}

/** CPU ms used since `before`: this process, and the database's backends (those that came since counted whole). */
async function cpuSince(before: { self: number; db: Map<number, number> }): Promise<{ self: number; db: number }> {
  const now = await cpuNow();
  let dbMs = 0;
  for (const [pid, ms] of now.db) dbMs += ms - (before.db.get(pid) ?? 0);
  return { self: now.self - before.self, db: dbMs };
}

async function topicRecords(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

interface RedriveRun { perSecond: number; createMs: number; sentOnTopic: number; resolved: number; sendingShare: number; cpu: { self: number; db: number } }

async function redriveRun(admin: Admin, n: number, topic: string, rateCap: number, rate: number): Promise<RedriveRun> {
  const group = `bench-${randomUUID().slice(0, 8)}`;
  await keepLetters(n, topic, group);
  const owner = runnerId();
  const c0 = performance.now();
  const task = (await db().$transaction((tx) => createTask(tx, { group }, rate, 'staff:bench', owner), { timeout: 60_000 }))!;
  const createMs = performance.now() - c0;
  const cpu0 = await cpuNow();
  const t0 = performance.now();
  const result = await runTask(task.id, { owner, rateCap });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await cpuSince(cpu0);
  const sendingShare = result.sendingMs / 1000 / seconds;
  if (result.end !== 'completed' || result.sent !== n) throw new Error(`the redrive ended ${result.end} with ${result.sent} of ${n} sent`);
  const [{ resolved }] = await db().$queryRaw<Array<{ resolved: bigint }>>`SELECT count(*) AS resolved FROM dead_letter.dead_letter WHERE fingerprint = ${group} AND status = 'resolved' AND resolution = 'redrive'`;
  return { perSecond: n / seconds, createMs, sentOnTopic: await topicRecords(admin, topic), resolved: Number(resolved), sendingShare, cpu };
}

/** The same records (built from the same kept events, before the clock starts), sent by a bare producer. */
async function referenceRun(producer: Producer, admin: Admin, n: number, from: string, topic: string): Promise<{ perSecond: number; cpu: number }> {
  const kept = await db().$queryRaw<Array<{ key: string; event: Record<string, unknown> }>>`
    SELECT record_key AS key, event FROM dead_letter.dead_letter WHERE topic = ${from}
    ORDER BY partition, kafka_offset LIMIT ${n}`;
  const messages = kept.map((l) => recordOf(topic, l.key, l.event)).map((r) => ({ key: r.key, value: r.value, headers: r.headers }));
  const cpu0 = cpuMs(process.pid);
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(i, i + BATCH) }] });
  }
  const perSecond = n / ((performance.now() - t0) / 1000);
  const cpu = cpuMs(process.pid) - cpu0;
  const onTopic = await topicRecords(admin, topic);
  if (onTopic !== n) throw new Error(`the reference topic holds ${onTopic} records, not ${n}`);
  return { perSecond, cpu };
}

export async function deadLetterRedrive(ctx: BenchContext): Promise<Row> {
  const url = await ctx.createDatabase('redrive');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const saved = { DATABASE_URL: process.env.DATABASE_URL, KAFKA_BROKERS: process.env.KAFKA_BROKERS };
  // The runner reads its database and broker as a function does: from the environment.
  process.env.DATABASE_URL = url;
  process.env.KAFKA_BROKERS = ctx.kafkaBrokers;
  const admin = kafkaClient('bench-redrive-admin', ctx.kafkaBrokers.split(',')).admin();
  const producer = kafkaClient('bench-redrive-reference', ctx.kafkaBrokers.split(',')).producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true });
  try {
    await admin.connect();
    await producer.connect();
    const redriven: RedriveRun[] = [];
    const reference: Array<{ perSecond: number; cpu: number }> = [];
    // A warm-up of each (connections, topic metadata, JIT) before anything is timed.
    const warm = `bench-redrive-warmup-${process.pid}`;
    await createTopics(producer, warm, `${warm}-ref`);
    await redriveRun(admin, 1_000, warm, Infinity, UNPACED);
    await referenceRun(producer, admin, 1_000, warm, `${warm}-ref`);
    for (let i = 0; i < ctx.config.repeats; i++) {
      const topic = `bench-redrive-${process.pid}-${i}`;
      const refTopic = `${topic}-ref`;
      await createTopics(producer, topic, refTopic);
      redriven.push(await redriveRun(admin, LETTERS, topic, Infinity, UNPACED));
      reference.push(await referenceRun(producer, admin, LETTERS, topic, refTopic));
      ctx.log(`  run ${i + 1}: redrive ${fmt(redriven[i].perSecond)} records/s (task of ${LETTERS} created in ${fmt(redriven[i].createMs)} ms; CPU ${fmt(redriven[i].cpu.self)} ms runner + ${fmt(redriven[i].cpu.db)} ms database); bare producer ${fmt(reference[i].perSecond)} records/s (CPU ${fmt(reference[i].cpu)} ms)`);
    }
    const pacedTopic = `bench-redrive-${process.pid}-paced`;
    await createTopics(producer, pacedTopic);
    const paced = await redriveRun(admin, PACED_LETTERS, pacedTopic, MAX_RATE, MAX_RATE);
    ctx.log(`  paced at the API's cap (${MAX_RATE}/s): ${fmt(paced.perSecond)} records/s`);

    const [{ bytes }] = await db().$queryRaw<Array<{ bytes: number }>>`SELECT avg(octet_length(event::text))::int AS bytes FROM dead_letter.dead_letter`;
    const r = median(redriven.map((x) => x.perSecond));
    const b = median(reference.map((x) => x.perSecond));
    const perThousand = (ms: number) => `${fmt((ms / LETTERS) * 1000)} ms`;
    const checks = redriven.map((x) => x.sentOnTopic === LETTERS && x.resolved === LETTERS);
    const problems = redriven.flatMap((x, i) => (checks[i] ? [] : [`run ${i + 1}: ${x.sentOnTopic} records on the topic and ${x.resolved} letters resolved, of ${LETTERS}`]));
    return {
      n: 9,
      name: 'Redrive throughput (dead letters → their topic on the Kafka mock broker, the API\'s 500/s cap lifted)',
      result: `${fmt(r)} records/s`,
      reference: `${fmt(b)} records/s (bare kafkajs producer, the same records, batches of ${BATCH}, acks all)`,
      ratio: ratio(r, b),
      target: '≥ 0.5×',
      met: Number.isFinite(r / b) ? r / b >= 0.5 : undefined,
      notes: [
        `paced at the API's cap: ${fmt(paced.perSecond)} records/s for ${PACED_LETTERS} letters asked for at ${MAX_RATE}/s (batches of ${batchSize(MAX_RATE)}, each no sooner than the records before it allow)`,
        `of the redrive's time, waiting for Kafka to take its batches: ${runs(redriven.map((x) => x.sendingShare * 100), (v) => `${fmt(v)}%`)}; the rest is the runner's own work: reading the letters (the next batch while one is sent, with the check that the task is still its own), building the records and waiting for the batches' commits (three in flight while the next batches are sent: each batch's letters resolved as soon as Kafka took it, a row a letter, side by side; then in turn one statement moving the task's cursor past it, with its counts and a row for the batch)`,
        `CPU time per 1,000 records (moves far less than the wall clock with the other work on a shared machine): redrive ${runs(redriven.map((x) => x.cpu.self), perThousand)} in the runner's process + ${runs(redriven.map((x) => x.cpu.db), perThousand)} in its database's backends; bare producer ${runs(reference.map((x) => x.cpu), perThousand)}`,
        `creating the task (its ${LETTERS} items in sending order, one statement): ${runs(redriven.map((x) => x.createMs), (v) => `${fmt(v)} ms`)}; not in the redrive figure`,
        `every run: ${LETTERS} records on the topic, ${LETTERS} letters resolved by redrive: ${checks.every(Boolean) ? 'yes' : 'NO'}`,
      ],
      inputs: [
        `${LETTERS} letters of one group (BENCH_REDRIVE_LETTERS), booking requests kept as the intake keeps them (${bytes} bytes of JSON each on average: attributes, traceparent, the knativeerror* extensions, the data), ${KEYS} keys, ${PARTITIONS} partitions`,
        `redrive: runTask in the bench process (tsx), its own PostgreSQL database, KafkaBus (acks all, one request in flight); tasks ask for ${UNPACED.toLocaleString('en-US')}/s with rateCap lifted (Infinity): batches of ${BATCH}, no pacing; the figure is from the first lease to the task completed`,
        `reference: kafkajs producer (acks all, one request in flight) sending the records the runner builds from the same letters (built before its clock starts), ${BATCH} per sendBatch, one after another, to a topic of its own with ${PARTITIONS} partitions`,
        `one warm-up of each (1,000 letters) before the ${ctx.config.repeats} measured runs; topics created beforehand`,
      ],
      runs: [`redrive records/s: ${runs(redriven.map((x) => x.perSecond))}`, `bare producer records/s: ${runs(reference.map((x) => x.perSecond))}`],
      ok: checks.every(Boolean),
      problems,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await closeBus();
    await closeDb();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}
