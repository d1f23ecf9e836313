// Row 13 — lab results to released results. ORU^R01 messages as the LIS writes them (test/support/results.ts
// oru(): MSH, PID, then per report ORC, OBR and its OBX; one accession each, 1–3 reports of 5–10 results in
// the catalogue's units, final, normal or mildly flagged, a standard patient's) are produced to lis-results,
// key = accession. The KafkaSource-equivalent dispatchers (scripts/lib/runtime/dispatcher.ts, configured from
// knative/'s KafkaSources) deliver them to the built lis-results-consumer, which parses each, matches it to its
// seeded order (ResultOrder) and patient, checks it against the catalogue and routes each report to its tier's
// lane; patient-results-consumer (and -svip1-consumer) store each report, apply the release rules (the
// ConfigMap's policy) and release it, with result.released on result-events after the commit. Every function
// runs as its container runs it (faas-js-runtime CLI, the built bundle), each in its own process, on a fresh
// database of this row.
// 1. Throughput: messages/s = N / (first produce → the last of their reports' result.released read back from
//    result-events). Reference, same run: the same message texts parsed by the same parser (oru.ts
//    resultReports over @medplum/core's Hl7Message) and their reports and observations inserted, released, into
//    the same tables of a second database of the same migrations, with plain pg, one transaction per message,
//    as many messages in flight as lis-results' KafkaSource allows (ordered: one per partition).
// 2. SVIP behind a backlog: BACKLOG standard reports put on patient-results directly (lane events, as the
//    lis-results consumer makes them from parsed ORU^R01: producing that many ORU messages through the LIS
//    path would take longer than the lane takes to drain them), with the standard lane consumer running;
//    while it drains, SVIP1 patients' ORU^R01 are produced to lis-results, spaced out; each one's time is from
//    its produce to the last of its reports' result.released. Reference: the same spacing and kind of
//    messages on the idle pipeline, same run.
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { load as loadYaml } from 'js-yaml';
import { PrismaPg } from '@prisma/adapter-pg';
import { Hl7Message } from '@medplum/core';
import { CompressionTypes, type Admin, type Consumer, type Message, type Producer } from 'kafkajs';
import { kafkaClient } from '../functions/shared/kafka';
import { resultReports } from '../functions/patient-booking/oru';
import { contentHash, type ResultReceived } from '../functions/patient-booking/results';
import { topics } from '../functions/patient-booking/events';
import { oru, type OruReport } from '../test/support/results';
import { applyMigrations } from '../scripts/lib/migrations';
import { KafkaDispatcher, type SourceBinding } from '../scripts/lib/runtime/dispatcher';
import { loadManifests, type KafkaSourceManifest } from '../scripts/lib/manifests';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, sleep, type FunctionProcess } from './lib/procs';
import { shortFetchWait, FETCH_WAIT_MS } from './lib/kafka-fetch-wait';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';
import { scrape, meanBetween, type Sample } from './lib/prometheus';

/** The functions of the path and their built entries. */
const FUNCTIONS = {
  lis: { name: 'lis-results-consumer', entry: 'functions/patient-booking/lis-results-consumer/index.ts' },
  standard: { name: 'patient-results-consumer', entry: 'functions/patient-booking/patient-results-consumer/index.ts' },
  svip1: { name: 'patient-results-svip1-consumer', entry: 'functions/patient-booking/patient-results-svip1-consumer/index.ts' },
} as const;
type Fn = keyof typeof FUNCTIONS;
export const RESULTS_ENTRIES = Object.values(FUNCTIONS).map((f) => f.entry);

// The SVIP p99 behind the backlog is held to at most this multiple of the idle pipeline's p99 (same run, same
// spacing): the lane has its own topic, consumer group and function, so what is left to slow it is the shared
// machine (two cores for PostgreSQL, three functions and the dispatchers) and the system's one outbox.
const SVIP_TARGET = 3;
// Throughput is held to a quarter of the bare parse-and-insert (the issue sets no ratio): the path takes two
// hops where row 12 takes one and holds 0.5×, so 0.5 × 0.5. Per message the reference does one transaction;
// the path does one in lis-results-consumer (inbox, HL7 dedupe, order, patient and catalogue reads, the lane
// events in the outbox) and its publish, then per report one in the lane consumer (inbox, report lock,
// version, observations, audit, release rules, release, outbox) and its publish, with two Kafka hops and two
// HTTP deliveries between.
const THROUGHPUT_TARGET = 0.25;

// Ordered delivery keeps one record in flight per partition, so partitions set the path's concurrency. The mock
// broker makes every topic with 4 on first use, and its admin API cannot make them otherwise (kafkajs finds
// no controller there); production has more (keda/*-source.yaml: lis-results 8, patient-results 10,
// patient-results-svip1 4), so the standard path here runs with less concurrency than it would there.
const PARTITIONS_NOTE = 'the Kafka mock broker makes every topic with 4 partitions (production: lis-results 8, patient-results 10, patient-results-svip1 4; keda/)';

interface Analyte { code: string; loinc: string; display: string; unit: string; low: number; high: number; digits: number }
interface Panel { code: string; loinc: string; display: string; category: string; analytes: Analyte[] }

const a = (code: string, loinc: string, display: string, unit: string, low: number, high: number, digits = 1): Analyte => ({ code, loinc, display, unit, low, high, digits });

/** Four everyday panels of 5–10 results each, in SI units; none sensitive, values kept inside the critical limits. */
const PANELS: Panel[] = [
  { code: 'BMP', loinc: '51990-0', display: 'Basic metabolic panel', category: 'chemistry', analytes: [
    a('NA', '2951-2', 'Sodium', 'mmol/L', 135, 145, 0), a('K', '2823-3', 'Potassium', 'mmol/L', 3.5, 5.0), a('CL', '2075-0', 'Chloride', 'mmol/L', 98, 107, 0),
    a('CO2', '2028-9', 'Carbon dioxide', 'mmol/L', 22, 29, 0), a('BUN', '3094-0', 'Urea nitrogen', 'mmol/L', 2.5, 7.1), a('CREA', '2160-0', 'Creatinine', 'umol/L', 62, 106, 0),
    a('GLU', '2345-7', 'Glucose', 'mmol/L', 3.9, 6.1), a('CA', '17861-6', 'Calcium', 'mmol/L', 2.15, 2.55, 2),
  ] },
  { code: 'CBC', loinc: '58410-2', display: 'Complete blood count', category: 'haematology', analytes: [
    a('WBC', '6690-2', 'Leukocytes', '10*9/L', 4, 10), a('RBC', '789-8', 'Erythrocytes', '10*12/L', 4.2, 5.4, 2), a('HGB', '718-7', 'Haemoglobin', 'g/dL', 12, 16),
    a('HCT', '4544-3', 'Haematocrit', '%', 36, 48), a('MCV', '787-2', 'MCV', 'fL', 80, 100), a('MCH', '785-6', 'MCH', 'pg', 27, 33),
    a('MCHC', '786-4', 'MCHC', 'g/dL', 32, 36), a('PLT', '777-3', 'Platelets', '10*9/L', 150, 400, 0), a('NEUT', '770-8', 'Neutrophils', '%', 40, 70),
    a('LYMPH', '736-9', 'Lymphocytes', '%', 20, 40),
  ] },
  { code: 'LIPID', loinc: '57698-3', display: 'Lipid panel', category: 'chemistry', analytes: [
    a('CHOL', '2093-3', 'Cholesterol', 'mmol/L', 3.0, 5.2), a('TRIG', '2571-8', 'Triglyceride', 'mmol/L', 0.5, 1.7), a('HDL', '2085-9', 'HDL cholesterol', 'mmol/L', 1.0, 2.0),
    a('LDL', '13457-7', 'LDL cholesterol', 'mmol/L', 1.5, 3.4), a('NONHDL', '43396-1', 'Non-HDL cholesterol', 'mmol/L', 2.0, 4.1),
  ] },
  { code: 'LFT', loinc: '24325-3', display: 'Hepatic function panel', category: 'chemistry', analytes: [
    a('ALT', '1742-6', 'ALT', 'U/L', 7, 56, 0), a('AST', '1920-8', 'AST', 'U/L', 10, 40, 0), a('ALP', '6768-6', 'Alkaline phosphatase', 'U/L', 44, 147, 0),
    a('GGT', '2324-2', 'GGT', 'U/L', 9, 48, 0), a('TBIL', '1975-2', 'Bilirubin total', 'umol/L', 5, 21), a('DBIL', '1968-7', 'Bilirubin direct', 'umol/L', 0, 5),
    a('ALB', '1751-7', 'Albumin', 'g/L', 35, 50),
  ] },
];

/** A deterministic pseudo-random fraction for (i, j): the same inputs every run. */
const frac = (i: number, j: number) => ((Math.sin(i * 12.9898 + j * 78.233) * 43758.5453) % 1 + 1) % 1;

/** Message i's reports: 1–3 panels (i mod 3 + 1), values mostly in range, one in eight a little out of it (flagged H or L). */
function reportsOf(i: number, accession: string): OruReport[] {
  const count = (i % 3) + 1;
  return Array.from({ length: count }, (_, k) => {
    const p = PANELS[(i + k) % PANELS.length];
    return {
      accession, code: p.code, loinc: p.loinc, display: p.display,
      observations: p.analytes.map((x, j) => {
        const f = frac(i, j + k * 17);
        const span = x.high - x.low;
        const out = f < 0.0625 ? -0.08 : f > 0.9375 ? 0.08 : 0;
        const v = out < 0 ? x.low + out * span : out > 0 ? x.high + out * span : x.low + ((f - 0.0625) / 0.875) * span;
        return { code: x.code, loinc: x.loinc, display: x.display, value: Math.max(0, v).toFixed(x.digits), unit: x.unit, range: `${x.low}-${x.high}`, ...(out ? { flags: [out < 0 ? 'L' : 'H'] } : {}) };
      }),
    };
  });
}

interface OruMessage { accession: string; patientId: string; text: string; reports: number; observations: number }
/** A batch of messages under one tag (its accessions' middle part), and how many reports they hold. */
interface Batch { tag: string; messages: OruMessage[]; reports: number }

/** Polls until done(); throws after timeoutMs, or after stallMs without progress() moving. */
async function until(done: () => boolean, timeoutMs: number, what: () => string, pollMs = 5, progress?: () => number, stallMs = Infinity): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = progress?.();
  let movedAt = Date.now();
  for (;;) {
    if (done()) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what()} within ${timeoutMs / 1000} s`);
    const now = progress?.();
    if (now !== seen) { seen = now; movedAt = Date.now(); }
    if (Date.now() - movedAt > stallMs) throw new Error(`${what()}, and none for ${stallMs / 1000} s`);
    await sleep(pollMs);
  }
}

/** Every result.released on result-events, read back by accession: how many and when the last arrived. */
class ReleaseWatch {
  readonly byAccession = new Map<string, { n: number; last: number }>();
  /** Releases read so far by batch tag (accessions are <prefix><tag>-<i>). */
  private readonly byTag = new Map<string, number>();
  /** CloudEvent ids read, with where: the same id at another offset was published twice; at the same offset, read twice. */
  private readonly seenIds = new Map<string, string>();
  rereads = 0;
  republished = 0;
  constructor(private readonly consumer: Consumer, private readonly prefix: string) {}

  static async start(brokers: string[], prefix: string): Promise<ReleaseWatch> {
    const consumer = kafkaClient('bench-results-watch', brokers).consumer({ groupId: `bench-results-watch-${process.pid}`, allowAutoTopicCreation: true });
    const watch = new ReleaseWatch(consumer, prefix);
    await consumer.connect();
    await consumer.subscribe({ topic: topics.results, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const at = Date.now();
        if (String(message.headers?.ce_type ?? '') !== 'com.medlab.result.released') return;
        const accession = (JSON.parse(String(message.value)) as { accession?: string }).accession;
        if (!accession?.startsWith(watch.prefix)) return;
        const id = String(message.headers?.ce_id ?? '');
        const where = `${partition}/${message.offset}`;
        const before = watch.seenIds.get(id);
        if (before !== undefined) {
          if (before === where) watch.rereads++; else watch.republished++;
          return;
        }
        watch.seenIds.set(id, where);
        const seen = watch.byAccession.get(accession);
        if (seen) { seen.n++; seen.last = at; } else watch.byAccession.set(accession, { n: 1, last: at });
        const tag = accession.slice(watch.prefix.length, accession.lastIndexOf('-'));
        watch.byTag.set(tag, (watch.byTag.get(tag) ?? 0) + 1);
      },
    });
    await joined;
    return watch;
  }

  /** result.released read so far of a batch's accessions (counts a report released twice twice: the checks catch that). */
  releasedOf(tag: string): number { return this.byTag.get(tag) ?? 0; }
  /** When the last of the message's reports was released, or undefined while one is still missing. */
  doneAt(m: { accession: string; reports: number }): number | undefined {
    const s = this.byAccession.get(m.accession);
    return s && s.n >= m.reports ? s.last : undefined;
  }
  stop(): Promise<void> { return this.consumer.disconnect(); }
}

export async function resultsPipeline(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const N = config.resultsMessages;
  const BACKLOG = config.resultsBacklog;
  const SVIP = config.resultsSvip;
  const brokers = ctx.kafkaBrokers.split(',');
  shortFetchWait();
  const url = await ctx.createDatabase('results');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  const refUrl = await ctx.createDatabase('results_ref');
  await applyMigrations(new PrismaPg({ connectionString: refUrl }));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
  const procs: Partial<Record<Fn, FunctionProcess>> = {};
  const dispatchers: KafkaDispatcher[] = [];
  let producer: Producer | undefined;
  let watch: ReleaseWatch | undefined;
  let refPool: pg.Pool | undefined;
  let admin: Admin | undefined;
  try {
    // ---------- seeds: the catalogue, patients, the accessions' orders ----------
    const tests = PANELS.flatMap((p) => [
      { code: p.code, loinc: p.loinc, name: p.display, unit: null as string | null, low: null as number | null, high: null as number | null, category: p.category },
      ...p.analytes.map((x) => ({ code: x.code, loinc: x.loinc, name: x.display, unit: x.unit, low: x.low, high: x.high, category: p.category })),
    ]);
    await pool.query(
      `INSERT INTO patient_booking.catalogue_test (code, version, loinc, name, unit, reference_low, reference_high, category)
       SELECT code, 1, loinc, name, unit, lo, hi, category FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[]) AS t(code, loinc, name, unit, lo, hi, category)`,
      [tests.map((t) => t.code), tests.map((t) => t.loinc), tests.map((t) => t.name), tests.map((t) => t.unit), tests.map((t) => t.low), tests.map((t) => t.high), tests.map((t) => t.category)]);
    const STANDARD_PATIENTS = Math.max(50, Math.min(N, 500));
    const SVIP_PATIENTS = 20;
    const stdPatient = (i: number) => `bench-rp-${i % STANDARD_PATIENTS}`;
    const svipPatient = (i: number) => `bench-rv-${i % SVIP_PATIENTS}`;
    await pool.query(`INSERT INTO patient_booking.patient (patient_id, tier, crm_version) SELECT 'bench-rp-' || g, 'standard', 1 FROM generate_series(0, $1::int - 1) g`, [STANDARD_PATIENTS]);
    await pool.query(`INSERT INTO patient_booking.patient (patient_id, tier, crm_version) SELECT 'bench-rv-' || g, 'svip1', 1 FROM generate_series(0, $1::int - 1) g`, [SVIP_PATIENTS]);

    const prefix = `B13-${process.pid}-`;
    let seq = 0;
    /** n messages of one tier, their orders seeded (the appointment system or an earlier result made them known). */
    const reportsOfAccession = new Map<string, number>();
    const messages = async (n: number, tag: string, tier: 'standard' | 'svip1'): Promise<Batch> => {
      const out: OruMessage[] = [];
      for (let k = 0; k < n; k++) {
        const i = seq++;
        const accession = `${prefix}${tag}-${i}`;
        const patientId = tier === 'standard' ? stdPatient(i) : svipPatient(i);
        const reports = reportsOf(i, accession);
        out.push({ accession, patientId, text: oru(patientId, reports), reports: reports.length, observations: reports.reduce((s, r) => s + r.observations.length, 0) });
        reportsOfAccession.set(accession, reports.length);
      }
      for (let k = 0; k < out.length; k += 5000) {
        const part = out.slice(k, k + 5000);
        await pool.query(`INSERT INTO patient_booking.result_order (accession, patient_id) SELECT * FROM unnest($1::text[], $2::text[])`, [part.map((m) => m.accession), part.map((m) => m.patientId)]);
      }
      return { tag, messages: out, reports: out.reduce((s, m) => s + m.reports, 0) };
    };
    const recordOf = (m: OruMessage): Message => ({ key: m.accession, value: m.text });

    // ---------- the functions, their KafkaSources, the watcher ----------
    const manifest = loadYaml(readFileSync(path.join(ROOT, 'knative/base/patient-booking/release-policy.yaml'), 'utf8')) as { data: Record<string, string> };
    const policyFile = path.join(tmp, 'policy.yaml');
    writeFileSync(policyFile, manifest.data['policy.yaml']);
    for (const key of Object.keys(FUNCTIONS) as Fn[]) {
      const f = FUNCTIONS[key];
      procs[key] = await startFunctionProcess({
        name: f.name, file: ctx.build.js(f.entry), cwd: path.join(ROOT, path.dirname(f.entry)),
        env: ctx.functionEnv(f.name, { DATABASE_URL: url, PATIENT_BOOKING_RELEASE_POLICY_FILE: policyFile }),
      });
    }
    producer = kafkaClient('bench-results-producer', brokers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    admin = kafkaClient('bench-results-admin', brokers).admin();
    await admin.connect();
    for (const topic of [topics.lisResults, topics.lanes.standard, topics.lanes.svip1, topics.results]) await producer.send({ topic, messages: [] }).catch(() => undefined);
    const partitionsOf = async (topic: string) => (await admin!.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;
    const manifests = loadManifests();
    const sourceOf = (service: string): KafkaSourceManifest => {
      const s = manifests.kafkaSources.find((x) => x.sink.service === service);
      if (!s) throw new Error(`knative/ declares no KafkaSource for ${service}`);
      return s;
    };
    const disp = {} as Record<Fn, KafkaDispatcher>;
    const bindings = {} as Record<Fn, SourceBinding>;
    for (const key of Object.keys(FUNCTIONS) as Fn[]) {
      bindings[key] = { source: sourceOf(FUNCTIONS[key].name), sinkUrl: procs[key]!.url };
      const d = new KafkaDispatcher(bindings[key], brokers);
      dispatchers.push(d);
      disp[key] = d;
      const t = Date.now();
      await d.setReplicas(Math.max(1, bindings[key].source.consumers));
      ctx.log(`  group ${bindings[key].source.consumerGroup}: joined in ${Date.now() - t} ms`);
    }
    const lisSource = bindings.lis.source;
    const lisPartitions = await partitionsOf(lisSource.topics[0]);
    const lanePartitions = await partitionsOf(bindings.standard.source.topics[0]);
    const svipPartitions = await partitionsOf(bindings.svip1.source.topics[0]);
    const inFlight = (lisSource.ordering === 'ordered' ? 1 : 50) * lisPartitions;
    const lowWatermarks = async (topic: string) => new Map((await admin!.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.low)]));
    watch = await ReleaseWatch.start(brokers, prefix);
    const handled = (d: KafkaDispatcher) => d.counts.delivered + d.counts['dead-lettered'] + d.counts.dropped;
    const released = (batch: Batch) => watch!.releasedOf(batch.tag);
    const send = async (batch: Batch) => {
      for (let k = 0; k < batch.messages.length; k += 200) await producer!.send({ topic: topics.lisResults, messages: batch.messages.slice(k, k + 200).map(recordOf), acks: -1 });
    };
    const allReleased = (batch: Batch, timeoutMs: number, what: string, stallMs = Infinity) =>
      until(() => released(batch) >= batch.reports, timeoutMs, () => `${what}: ${batch.reports - released(batch)} of ${batch.reports} reports not released`, 20, () => released(batch), stallMs);
    /** When the last report of the batch was released (read back). */
    const lastOf = (batch: Batch) => Math.max(...batch.messages.map((m) => watch!.doneAt(m) ?? Infinity));

    // Warm-up: messages through every partition, group and function (and the reference's code paths).
    const warm = await messages(24, 'W', 'standard');
    await send(warm);
    await allReleased(warm, 120_000, 'warm-up');
    const warmSvip = await messages(4, 'WV', 'svip1');
    await send(warmSvip);
    await allReleased(warmSvip, 60_000, 'SVIP warm-up');

    // ---------- the reference: parse and insert alone ----------
    refPool = new pg.Pool({ connectionString: refUrl, max: inFlight });
    const insertParsed = async (text: string): Promise<number> => {
      const message = Hl7Message.parse(text);
      const receivedAt = new Date().toISOString();
      const sender = `${message.header.getField(3)?.toString() ?? ''}|${message.header.getField(4)?.toString() ?? ''}`;
      const controlId = message.header.getField(10)?.toString() ?? '';
      const client = await refPool!.connect();
      try {
        await client.query('BEGIN');
        let n = 0;
        for (const r of resultReports(message)) {
          const report = r.report;
          const data: ResultReceived = { patientId: r.patientId, accession: r.accession, tier: 'standard', message: { sender, controlId, index: r.index }, report, receivedAt };
          const id = randomUUID();
          await client.query(
            `INSERT INTO patient_booking.diagnostic_report (id, patient_id, accession, code, loinc, display, order_number, lane, status, version, priority, effective_at, issued_at, received_at, content_hash, release_state, released_at, released_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'standard', $8::patient_booking.report_status, 1, $9, $10, $11, $12, $13, 'released', now(), 1)`,
            [id, r.patientId, r.accession, report.code, report.loinc ?? null, report.display ?? null, r.orderNumber ?? null, report.status.replace(/-/g, '_'), report.priority ?? null,
              report.effectiveAt ?? null, report.issuedAt ?? null, receivedAt, contentHash(data)]);
          const obs = report.observations;
          const cols = 16;
          const values = obs.map((_, k) => `(${Array.from({ length: cols }, (__, c) => `$${k * cols + c + 1}`).join(', ')})`).join(', ');
          await client.query(
            `INSERT INTO patient_booking.observation (id, report_id, report_version, patient_id, seq, code, loinc, display, value_type, value_number, value_text, unit, reference_low, reference_high, reference_text, status)
             VALUES ${values}`,
            obs.flatMap((o) => [randomUUID(), id, 1, r.patientId, o.seq, o.code, o.loinc ?? null, o.display ?? null, o.valueType,
              typeof o.value === 'number' ? o.value : null, typeof o.value === 'string' ? o.value : o.valueText ?? null, o.unit ?? null,
              o.referenceRange?.low ?? null, o.referenceRange?.high ?? null, o.referenceRange?.text ?? null, o.status.replace(/-/g, '_')]));
          n++;
        }
        await client.query('COMMIT');
        return n;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    };
    const bare = async (batch: Batch): Promise<{ perSec: number; ms: number; reports: number }> => {
      const list = batch.messages;
      let next = 0;
      let reports = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: inFlight }, async () => { while (next < list.length) { const n = await insertParsed(list[next++].text); reports += n; } }));
      const took = performance.now() - t0;
      if (reports !== batch.reports) throw new Error(`the reference inserted ${reports} reports of ${batch.reports}`);
      return { perSec: list.length / (took / 1000), ms: took, reports };
    };
    await bare(warm);

    // ---------- 1. throughput ----------
    const problems: string[] = [];
    const pipe: Array<{ perSec: number; reportsPerSec: number; ms: number; lisDoneMs: number; laneDoneMs: number; execMs: Record<string, number> }> = [];
    const ref: Array<{ perSec: number; ms: number }> = [];
    let lastBatch: Batch | undefined;
    for (let r = 0; r < config.repeats; r++) {
      const batch = await messages(N, `T${r}`, 'standard');
      lastBatch = batch;
      const reports = batch.reports;
      const before: Record<string, Sample[]> = {};
      for (const k of ['lis', 'standard'] as const) before[k] = await scrape(procs[k]!.url);
      const h0 = { lis: handled(disp.lis), lane: handled(disp.standard) };
      const stage: { lis?: number; lane?: number } = {};
      const t0 = Date.now();
      await send(batch);
      const end = await until(() => {
        if (!stage.lis && handled(disp.lis) - h0.lis >= N) stage.lis = Date.now();
        if (!stage.lane && handled(disp.standard) - h0.lane >= reports) stage.lane = Date.now();
        return released(batch) >= reports;
      }, 600_000, () => `throughput run ${r + 1}: ${reports - released(batch)} of ${reports} reports not released`);
      const last = Math.min(end, lastOf(batch));
      const execMs: Record<string, number> = {};
      for (const k of ['lis', 'standard'] as const) execMs[k] = (meanBetween(before[k], await scrape(procs[k]!.url), 'faas_execution_latency')?.mean ?? NaN) * 1000;
      const tookMs = Math.max(1, last - t0);
      pipe.push({ perSec: N / (tookMs / 1000), reportsPerSec: reports / (tookMs / 1000), ms: tookMs, lisDoneMs: (stage.lis ?? end) - t0, laneDoneMs: (stage.lane ?? end) - t0, execMs });
      ref.push(await bare(batch));
      ctx.log(`  run ${r + 1}: pipeline ${fmt(pipe[r].perSec)} messages/s (${reports} reports in ${fmt(tookMs)} ms), parse + insert alone ${fmt(ref[r].perSec)} messages/s`);
    }

    // ---------- 2. SVIP behind a backlog (and on the idle pipeline, the reference) ----------
    const laneRate = median(pipe.map((p) => p.reportsPerSec));
    // Behind the backlog the SVIP messages are spread over most of its drain: before each send, the time the
    // backlog still needs at the rate it has drained so far (the burst's lane rate until it has a second of its
    // own), times 0.7, shared among the messages left; 100 ms to 10 s apart. On the idle pipeline they go
    // IDLE_GAP_MS apart, more than one takes there, so each meets an idle path as each behind the backlog does.
    const IDLE_GAP_MS = 300;
    // Where an SVIP message's time goes, from the outbox rows of the two transactions it causes (now() in
    // PostgreSQL is the transaction's start): produce → the lis-results transaction; → the publish of its lane
    // events; → the lane transaction of its last report; → the publish of that report's result.released; →
    // read back from result-events.
    const STAGES = ['to the lis-results consumer', 'its transaction and publish', 'to the SVIP lane consumer', 'its transaction and publish', 'to result-events and back'] as const;
    const stagesOf = async (list: OruMessage[], sentAt: Map<string, number>): Promise<number[][]> => {
      const { rows } = await pool.query<{ acc: string; lane_tx: Date; lane_pub: Date; rel_tx: Date; rel_pub: Date }>(
        `SELECT l.acc, l.lane_tx, l.lane_pub, r.rel_tx, r.rel_pub
         FROM (SELECT key AS acc, min(time) AS lane_tx, max(published_at) AS lane_pub FROM patient_booking.outbox_event
               WHERE type = 'com.medlab.result.received-svip1' AND key = ANY($1::text[]) GROUP BY key) l
         JOIN (SELECT data->>'accession' AS acc, max(time) AS rel_tx, max(published_at) AS rel_pub FROM patient_booking.outbox_event
               WHERE type = 'com.medlab.result.released' AND data->>'accession' = ANY($1::text[]) GROUP BY 1) r ON r.acc = l.acc`,
        [list.map((m) => m.accession)]);
      const byAcc = new Map(rows.map((x) => [x.acc, x]));
      // In the order sent, as the latencies are.
      return list.map((m) => {
        const x = byAcc.get(m.accession);
        if (!x) return STAGES.map(() => NaN);
        const points = [sentAt.get(x.acc)!, x.lane_tx.getTime(), x.lane_pub.getTime(), x.rel_tx.getTime(), x.rel_pub.getTime(), watch!.byAccession.get(x.acc)!.last];
        return points.slice(1).map((p, k) => p - points[k]);
      });
    };
    const describeStages = (stages: number[][], lat: number[]) => {
      const med = STAGES.map((name, k) => `${name} ${ms(median(stages.map((st) => st[k])))}`).join(', ');
      const worst = stages[lat.indexOf(Math.max(...lat))];
      return `medians: ${med}${worst ? `; the slowest: ${STAGES.map((name, k) => `${name} ${ms(worst[k])}`).join(', ')}` : ''}`;
    };
    const svipRun = async (tag: string, gapBefore: (k: number) => number, during?: () => number): Promise<{ lat: number[]; remaining: number[]; stages: number[][]; gaps: number[] }> => {
      const batch = await messages(SVIP, tag, 'svip1');
      const list = batch.messages;
      const sentAt = new Map<string, number>();
      const remaining: number[] = [];
      const gaps: number[] = [];
      let last = Date.now();
      for (let k = 0; k < list.length; k++) {
        if (k > 0) {
          const gap = gapBefore(k);
          gaps.push(gap);
          const wait = last + gap - Date.now();
          if (wait > 0) await sleep(wait);
        }
        last = Date.now();
        sentAt.set(list[k].accession, last);
        await producer!.send({ topic: topics.lisResults, messages: [recordOf(list[k])], acks: -1 });
        if (during) remaining.push(during());
      }
      await allReleased(batch, 300_000, `SVIP run ${tag}`);
      return { lat: list.map((m) => watch!.doneAt(m)! - sentAt.get(m.accession)!), remaining, stages: await stagesOf(list, sentAt), gaps };
    };
    const idle = await svipRun('VI', () => IDLE_GAP_MS);
    ctx.log(`  SVIP on the idle pipeline (${SVIP}, ${IDLE_GAP_MS} ms apart): p50 ${ms(percentile(idle.lat, 50))}, p99 ${ms(percentile(idle.lat, 99))}`);

    // The backlog: lane events as the lis-results consumer makes them (parsed ORU^R01), straight onto patient-results.
    const backlog: Batch = { tag: 'S', messages: [], reports: 0 };
    while (backlog.reports < BACKLOG) {
      const i = seq++;
      const accession = `${prefix}${backlog.tag}-${i}`;
      const patientId = stdPatient(i);
      const reports = reportsOf(i, accession).slice(0, BACKLOG - backlog.reports);
      backlog.messages.push({ accession, patientId, text: oru(patientId, reports), reports: reports.length, observations: 0 });
      reportsOfAccession.set(accession, reports.length);
      backlog.reports += reports.length;
    }
    const laneRecords: Message[] = [];
    for (const m of backlog.messages) {
      const message = Hl7Message.parse(m.text);
      const controlId = message.header.getField(10)?.toString() ?? randomUUID();
      for (const r of resultReports(message)) {
        const data: ResultReceived = { patientId: r.patientId, accession: r.accession, tier: 'standard', message: { sender: 'LIS|MEDLAB-HCM', controlId, index: r.index }, report: r.report, receivedAt: new Date().toISOString() };
        laneRecords.push({
          key: r.accession, value: JSON.stringify(data),
          headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/patient-booking/lis-results-consumer', ce_type: 'com.medlab.result.received', 'content-type': 'application/json' },
        });
      }
    }
    const laneH0 = handled(disp.standard);
    const backlogLeft = () => BACKLOG - (handled(disp.standard) - laneH0);
    // Gzip, because the mock broker keeps at most 5 MB of a partition's log (librdkafka's rdkafka_mock.c drops
    // the oldest records past it, read or not): 20,000 lane events of ~2 KB over 4 partitions would lose most.
    // The dispatcher's consumer reads them as any compressed batch; nothing else changes.
    const highBefore = new Map((await admin.fetchTopicOffsets(topics.lanes.standard)).map((p) => [p.partition, Number(p.high)]));
    const b0 = Date.now();
    for (let k = 0; k < laneRecords.length; k += 500) await producer.send({ topic: topics.lanes.standard, messages: laneRecords.slice(k, k + 500), acks: -1, compression: CompressionTypes.GZIP });
    const producedMs = Date.now() - b0;
    ctx.log(`  backlog: ${BACKLOG} standard reports on ${topics.lanes.standard} in ${fmt(producedMs)} ms; SVIP messages spread over its drain`);
    const loaded = await svipRun('VB', (k) => {
      const elapsed = (Date.now() - b0) / 1000;
      const drained = BACKLOG - backlogLeft();
      const rate = elapsed >= 1 && drained > 0 ? drained / elapsed : laneRate;
      return Math.min(10_000, Math.max(100, Math.round((0.7 * 1000 * backlogLeft()) / Math.max(1, rate) / (SVIP - k))));
    }, backlogLeft);
    const svipDoneLeft = backlogLeft();
    const lows = await lowWatermarks(topics.lanes.standard);
    const truncated = [...lows].filter(([p, low]) => low > (highBefore.get(p) ?? 0));
    if (truncated.length) throw new Error(`the mock broker dropped backlog records before they were read (partitions ${truncated.map(([p]) => p).join(', ')}): lower BENCH_RESULTS_BACKLOG`);
    const drainEnd = await allReleased(backlog, 1_800_000, 'standard backlog', 120_000);
    const drainLast = Math.min(drainEnd, lastOf(backlog));
    const drainMs = drainLast - b0;
    ctx.log(`  SVIP behind the backlog: p50 ${ms(percentile(loaded.lat, 50))}, p99 ${ms(percentile(loaded.lat, 99))}; backlog left when the SVIP were done ${svipDoneLeft}; drained in ${fmt(drainMs / 1000)} s`);
    if (Math.min(...loaded.remaining) <= 0) problems.push(`the backlog had drained before the last SVIP message was sent: not every SVIP result was measured behind it (lower BENCH_RESULTS_SVIP or raise BENCH_RESULTS_BACKLOG)`);

    // ---------- checks: everything released once, stored whole, nothing lost or left unpublished ----------
    const dropped = dispatchers.reduce((s, d) => s + d.counts.dropped + d.counts['dead-lettered'] + d.counts.lost, 0);
    if (dropped) problems.push(`dispatchers: ${dropped} event(s) dead-lettered, dropped or lost`);
    const twice = [...watch.byAccession.entries()].filter(([acc, s]) => s.n > (reportsOfAccession.get(acc) ?? 0)).length;
    if (twice) problems.push(`${twice} accession(s) released more often than they have reports (or not of this row)`);
    // The last publish commits after its records are on Kafka (and maybe read back): give it a moment.
    for (let t = Date.now(); Date.now() - t < 30_000;) {
      const { rows: [o] } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM patient_booking.outbox_event WHERE published_at IS NULL`);
      if (Number(o.n) === 0) break;
      await sleep(200);
    }
    if (watch.republished) problems.push(`result-events: ${watch.republished} result.released published twice (the same CloudEvent id at another offset)`);
    const { rows: [db] } = await pool.query<{ reports: string; released: string; observations: string; unpublished: string }>(
      `SELECT (SELECT count(*) FROM patient_booking.diagnostic_report WHERE accession LIKE $1) AS reports,
              (SELECT count(*) FROM patient_booking.diagnostic_report WHERE accession LIKE $1 AND release_state = 'released' AND released_version = version) AS released,
              (SELECT count(*) FROM patient_booking.observation o JOIN patient_booking.diagnostic_report d ON d.id = o.report_id WHERE d.accession LIKE $1) AS observations,
              (SELECT count(*) FROM patient_booking.outbox_event WHERE published_at IS NULL) AS unpublished`, [`${prefix}%`]);
    const expectedReports = [...watch.byAccession.values()].reduce((s, x) => s + x.n, 0);
    if (Number(db.reports) !== Number(db.released)) problems.push(`database: ${db.reports} reports of this row, ${db.released} released`);
    if (Number(db.released) !== expectedReports) problems.push(`database: ${db.released} reports released, ${expectedReports} result.released read back`);
    if (Number(db.unpublished) > 0) problems.push(`outbox: ${db.unpublished} event(s) unpublished at the end`);
    const { rows: [refDb] } = await refPool.query<{ reports: string; observations: string }>(
      `SELECT (SELECT count(*) FROM patient_booking.diagnostic_report) AS reports, (SELECT count(*) FROM patient_booking.observation) AS observations`);

    const peak = median(pipe.map((p) => p.perSec));
    const refPeak = median(ref.map((p) => p.perSec));
    const p99 = percentile(loaded.lat, 99);
    const idleP99 = percentile(idle.lat, 99);
    const met = peak / refPeak >= THROUGHPUT_TARGET && p99 / idleP99 <= SVIP_TARGET && problems.length === 0;
    const avgReports = lastBatch!.reports / N;
    const avgObs = lastBatch!.messages.reduce((s, m) => s + m.observations, 0) / N;
    const counts = (Object.entries(disp) as Array<[Fn, KafkaDispatcher]>).map(([k, d]) => `${k} ${d.counts.delivered} delivered/${d.counts['dead-lettered'] + d.counts.dropped + d.counts.lost} not`).join(', ');
    return {
      n: 13,
      name: 'Lab results (ORU^R01 on lis-results → lis-results-consumer → lane → lane consumer → result.released)',
      result: `${fmt(peak)} messages/s; SVIP p99 ${ms(p99)} behind ${BACKLOG.toLocaleString('en-US')} standard`,
      reference: `${fmt(refPeak)} messages/s (parse + insert alone: same parser, pg, ${inFlight} in flight); SVIP p99 ${ms(idleP99)} on the idle pipeline`,
      ratio: `${ratio(peak, refPeak)} / ${ratio(p99, idleP99)}`,
      target: `≥ ${THROUGHPUT_TARGET}× (issue: none); SVIP p99 ≤ ${SVIP_TARGET}× idle (issue: none)`,
      met,
      notes: [
        `where the time goes (burst of ${N} messages, ${fmt(avgReports)} reports and ${fmt(avgObs)} results each; medians): the lis-results consumer had handled all ${N} after ${ms(median(pipe.map((p) => p.lisDoneMs)))} (its own time per message ${ms(median(pipe.map((p) => p.execMs.lis)))}), the standard lane consumer all reports after ${ms(median(pipe.map((p) => p.laneDoneMs)))} (its own time per report ${ms(median(pipe.map((p) => p.execMs.standard)))}); last result.released after ${ms(median(pipe.map((p) => p.ms)))}; parse + insert alone took ${ms(median(ref.map((p) => p.ms)))}`,
        `reports/s through the standard lane in the bursts: ${runs(pipe.map((p) => p.reportsPerSec))}`,
        `SVIP1 behind the backlog (${SVIP} ORU^R01, ${fmt(median(loaded.gaps))} ms apart (median; ${fmt(Math.min(...loaded.gaps))}–${fmt(Math.max(...loaded.gaps))}), produce → the last of its reports' result.released): p50 ${ms(percentile(loaded.lat, 50))}, p99 ${ms(p99)}, max ${ms(Math.max(...loaded.lat))}; standard reports still waiting when each SVIP was sent: first ${loaded.remaining[0]}, last ${loaded.remaining.at(-1)}; when every SVIP was released: ${svipDoneLeft}`,
        `SVIP behind the backlog, where the time went (outbox rows' transaction times): ${describeStages(loaded.stages, loaded.lat)}`,
        `idle pipeline, ${IDLE_GAP_MS} ms apart: p50 ${ms(percentile(idle.lat, 50))}, p99 ${ms(idleP99)}; ${describeStages(idle.stages, idle.lat)}`,
        `standard backlog: ${BACKLOG.toLocaleString('en-US')} reports produced in ${fmt(producedMs / 1000)} s, all released ${fmt(drainMs / 1000)} s after the first produce (${fmt(BACKLOG / (drainMs / 1000))} reports/s): its last report waited that long`,
        `checks: ${db.reports} reports of this row stored, ${db.released} released (current version), ${db.observations} observations; ${db.unpublished} outbox events unpublished at the end; result.released read twice by the bench's reader ${watch.rereads}, published twice ${watch.republished}; reference database ${refDb.reports} reports, ${refDb.observations} observations; dispatchers: ${counts}`,
      ],
      inputs: [
        `${N} ORU^R01 per throughput run (BENCH_RESULTS_MESSAGES), built by test/support/results.ts oru(): one accession and one standard patient each (${STANDARD_PATIENTS} patients), 1–3 reports (BMP 8, CBC 10, lipid 5, hepatic 7 results, SI units with LOINC, reference ranges, 1 in 8 results flagged H or L, none critical, none sensitive), final; each accession's ResultOrder seeded; produced to lis-results (key = accession, no headers: the dispatcher wraps them as dev.knative.kafka.event) in sends of 200, acks all; messages/s = N / (first produce → the last of their reports' result.released read back from result-events)`,
        `functions (built, faas-js-runtime CLI, 1 process each): lis-results-consumer, patient-results-consumer, patient-results-svip1-consumer; NODE_ENV=production, LOG_LEVEL=info, DATABASE_POOL_SIZE=10, the release-policy ConfigMap as PATIENT_BOOKING_RELEASE_POLICY_FILE, a fresh database of this row`,
        `dispatchers: KafkaDispatcher per KafkaSource of knative/ (lis-results ${lisSource.ordering}, ${Math.max(1, lisSource.consumers)} member(s) over ${lisPartitions} partitions; patient-results ${bindings.standard.source.ordering} over ${lanePartitions}; patient-results-svip1 over ${svipPartitions}; ${PARTITIONS_NOTE}); lane backlog produced gzip-compressed (the mock broker keeps 5 MB a partition); maxWaitTimeInMs=${FETCH_WAIT_MS}; result.released read back by a kafkajs consumer in the bench process`,
        `reference: the same message texts, after each pipeline run, parsed with Hl7Message.parse + oru.ts resultReports and inserted by ${inFlight} workers (lis-results' in-flight limit) over pg (pool of ${inFlight}) into a second database of the same migrations: per message BEGIN, per report an INSERT of the report (released, its content hash) and one multi-row INSERT of its observations, COMMIT`,
        `backlog: ${BACKLOG.toLocaleString('en-US')} com.medlab.result.received lane events (BENCH_RESULTS_BACKLOG) made from parsed ORU^R01 of the same kind, produced straight to patient-results in sends of 500 (through lis-results they would take longer to put there than the lane takes to drain them); then ${SVIP} SVIP1 ORU^R01 (BENCH_RESULTS_SVIP, ${SVIP_PATIENTS} svip1 patients) produced to lis-results one at a time, spread over about 70% of the drain (before each, the drain still expected at the rate so far shared among those left; 100 ms–10 s apart); the idle reference: the same number, ${IDLE_GAP_MS} ms apart, before the backlog; one backlog run`,
        `${config.repeats} throughput runs after a warm-up of 24 + 4 messages (BENCH_REPEATS)`,
      ],
      runs: [
        `pipeline messages/s: ${runs(pipe.map((p) => p.perSec))}`,
        `parse + insert alone messages/s: ${runs(ref.map((p) => p.perSec))}`,
        `lis-results consumer done ms: ${runs(pipe.map((p) => p.lisDoneMs))}; lane done ms: ${runs(pipe.map((p) => p.laneDoneMs))}; own time per event ms, lis ${runs(pipe.map((p) => p.execMs.lis))}, lane ${runs(pipe.map((p) => p.execMs.standard))}`,
        `SVIP latencies behind the backlog, ms, in the order sent: ${loaded.lat.map((v) => fmt(v)).join(' ')}`,
        `SVIP latencies on the idle pipeline, ms, in the order sent: ${idle.lat.map((v) => fmt(v)).join(' ')}`,
      ],
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await Promise.all(dispatchers.map((d) => d.stop().catch(() => undefined)));
    await watch?.stop().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(Object.values(procs).map((p) => p?.stop()));
    await refPool?.end().catch(() => undefined);
    await pool.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}
