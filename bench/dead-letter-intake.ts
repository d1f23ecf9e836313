// Row 7 — dead-letter intake throughput. 10,000 failed events delivered to the intake (built, faas-js-runtime
// CLI) over HTTP as Knative's delivery sends them to a dead-letter sink: binary CloudEvents with
// knativeerrordest, knativeerrorcode, knativeerrordata and the KafkaSource's partition and offset, each a new
// event, from concurrent keep-alive connections. The intake keeps deliveries that arrive together with one
// statement (group commit, functions/dead-letter/intake/keep.ts). The reference sends that very statement
// (captured on the wire from the function itself, lib/pg-wire.ts) with each letter's own ids, straight to
// PostgreSQL with pg over as many connections as the intake's pool, as many letters in flight as the HTTP
// clients, grouped by the same group commit with the same limits: the ratio is what the function (HTTP,
// CloudEvent parsing, Prisma, its log line) adds to the statements. The same statement sent once per letter
// (what the intake did before it grouped them) is measured beside it, for the notes.
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import yaml from 'js-yaml';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../scripts/lib/migrations';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, type FunctionProcess } from './lib/procs';
import { startPgCapture, describeStatements, type WireStatement } from './lib/pg-wire';
import { scrape, meanBetween } from './lib/prometheus';
import { median, fmt, ratio, runs } from './lib/stats';
import { groupCommit } from '../functions/shared/group-commit';
import { KEEP_LIMITS } from '../functions/dead-letter/intake/keep';

const POOL = 10;
const TARGET = 0.5;
/** The issue's figure: 10,000 letters through the intake per second. */
const ISSUE_RATE = 10_000;
const KAFKA_SOURCE = 'booking-consumer-source';
const DEST = 'http://booking-consumer.patient-portal.svc.cluster.local';
const REFUSAL = Buffer.from(JSON.stringify({ type: 'https://docs.medlab.example/problems/unprocessable-event', title: 'Unprocessable Event', status: 422, detail: 'no such slot "s-1"' })).toString('base64');

/** Knative's delivery of letter i of a run to the dead-letter sink (binary mode). */
function delivery(source: string, i: number): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ requestId: randomUUID(), patientId: `bench-patient-${i % 4000}`, slotId: randomUUID() });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': `${source}-${i}`,
      'ce-source': source,
      'ce-type': 'com.medlab.booking.requested',
      'ce-knativeerrordest': DEST,
      'ce-knativeerrorcode': '422',
      'ce-knativeerrordata': REFUSAL,
      'ce-knativekafkapartition': String(i % 4),
      'ce-knativekafkaoffset': String(i),
      'ce-partitionkey': `bench-patient-${i % 4000}`,
    },
  };
}

function post(agent: http.Agent, base: URL, d: { headers: Record<string, string>; body: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { ...d.headers, 'content-length': String(Buffer.byteLength(d.body)) };
    const r = http.request({ agent, host: base.hostname, port: base.port, method: 'POST', path: `/?kafkasource=${KAFKA_SOURCE}`, headers, timeout: 30_000 }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 30 s')));
    r.on('error', reject);
    r.end(d.body);
  });
}

/** Runs `n` jobs, `inFlight` at a time; resolves with the wall time in ms. */
async function countedLoop(n: number, inFlight: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) await job(next++);
  }));
  return performance.now() - t0;
}

/** The statement the intake sends for a write of one letter (the third delivery: the first ones connect and warm up). */
async function captureIntake(ctx: BenchContext, url: string, env: NodeJS.ProcessEnv): Promise<{ statements: WireStatement[]; eventId: string; letterId: string; source: string }> {
  const relay = await startPgCapture(url);
  let fn: FunctionProcess | undefined;
  try {
    fn = await startFunctionProcess({ name: 'dead-letter-intake (capture)', file: ctx.build.js('functions/dead-letter/intake/index.ts'), cwd: path.join(ROOT, 'functions/dead-letter/intake'), env: { ...env, DATABASE_URL: relay.url } });
    const source = '/bench/capture';
    let window: WireStatement[] = [];
    let letterId = '';
    for (let i = 0; i < 3; i++) {
      const from = relay.statements().length;
      const res = await fetch(`${fn.url}/?kafkasource=${KAFKA_SOURCE}`, { method: 'POST', ...delivery(source, i), signal: AbortSignal.timeout(30_000) });
      const body = await res.json() as { deadLetterId?: string };
      if (res.status !== 201 || !body.deadLetterId) throw new Error(`the intake answered ${res.status} during the capture: ${JSON.stringify(body).slice(0, 300)}`);
      window = relay.statements().slice(from);
      letterId = body.deadLetterId;
    }
    const failed = window.find((s) => s.error);
    if (failed) throw new Error(`a captured statement failed: ${failed.error}`);
    // The reference groups letters as the intake does: one statement whose one parameter is its letters' rows.
    const rows = window.length === 1 && window[0].protocol === 'extended' && window[0].values.length === 1 ? window[0].values[0] : null;
    if (rows === null || !rows.startsWith('[') || (JSON.parse(rows) as unknown[]).length !== 1) {
      throw new Error(`the intake no longer keeps a write with one statement taking its letters' rows as one JSON array (${window.length} statement(s)): update the reference`);
    }
    return { statements: window, eventId: `${source}-2`, letterId, source };
  } finally {
    await fn?.stop();
    await relay.close();
  }
}

export async function deadLetterIntake(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const n = config.dlIntakeLetters;
  const connections = config.httpConnections;
  const url = await ctx.createDatabase('dlintake');
  await applyMigrations(new PrismaPg({ connectionString: url }));
  // In a cluster the dead-letter-policy ConfigMap is mounted and DEAD_LETTER_POLICY_FILE names it.
  const policyDir = mkdtempSync(path.join(os.tmpdir(), 'portal-bench-policy-'));
  const policyFile = path.join(policyDir, 'policy.yaml');
  const configMap = yaml.load(readFileSync(path.join(ROOT, 'knative/base/dead-letter/policy.yaml'), 'utf8')) as { data: Record<string, string> };
  writeFileSync(policyFile, configMap.data['policy.yaml']);
  const env = ctx.functionEnv('dead-letter-intake', { DATABASE_URL: url, DATABASE_POOL_SIZE: String(POOL), DEAD_LETTER_POLICY_FILE: policyFile });
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  let fn: FunctionProcess | undefined;
  try {
    const captured = await captureIntake(ctx, url, env);
    // The reference sends what the intake sent, with letter i's own ids: its event id (also inside the kept
    // event), its letter id, its run's source. Nothing else differs between letters that matters to PostgreSQL.
    const [statement] = captured.statements;
    const rowOf = (source: string, i: number) => statement.values[0]!.slice(1, -1)
      .split(captured.letterId).join(randomUUID()).split(captured.eventId).join(`${source}-${i}`).split(captured.source).join(source);
    /** The statement for a write of these letters: their rows, one JSON array. */
    const write = (source: string, letters: number[]) => ({ text: statement.sql, values: [`[${letters.map((i) => rowOf(source, i)).join(',')}]`] });
    /** The reference's group commit: the intake's, with its limits, writing with pg. */
    const groupedWrites = (source: string) => {
      const sizes: number[] = [];
      const keep = groupCommit(async (letters: number[]) => {
        sizes.push(letters.length);
        await pool.query(write(source, letters));
        return letters.map(() => true);
      }, { ...KEEP_LIMITS, keyOf: (i) => String(i) });
      return { keep, sizes };
    };

    fn = await startFunctionProcess({ name: 'dead-letter-intake', file: ctx.build.js('functions/dead-letter/intake/index.ts'), cwd: path.join(ROOT, 'functions/dead-letter/intake'), env });
    const base = new URL(fn.url);
    const count = async (source: string) => {
      const { rows: [c] } = await pool.query<{ letters: number; history: number }>(
        `SELECT (SELECT count(*) FROM dead_letter.dead_letter WHERE event_source = $1)::int AS letters,
                (SELECT count(*) FROM dead_letter.attempt a JOIN dead_letter.dead_letter l ON l.id = a.letter_id WHERE l.event_source = $1)::int AS history`, [source]);
      return c;
    };
    // Warm-up: connections, JIT, the buffer cache.
    const warm = new http.Agent({ keepAlive: true, maxSockets: connections });
    await countedLoop(500, connections, async (i) => { await post(warm, base, delivery('/bench/warm', i)); });
    warm.destroy();
    const warmRef = groupedWrites('/bench/warm-ref');
    await countedLoop(500, connections, async (i) => { await warmRef.keep(i); });

    const httpRates: number[] = [];
    const refRates: number[] = [];
    const singleRates: number[] = [];
    const httpPerWrite: number[] = [];
    const refPerWrite: number[] = [];
    const problems: string[] = [];
    const checks: string[] = [];
    for (let r = 0; r < config.repeats; r++) {
      const source = `/bench/http-${r}`;
      const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
      const statuses: Record<number, number> = {};
      let errors = 0;
      const before = await scrape(fn.url);
      const httpMs = await countedLoop(n, connections, async (i) => {
        try {
          const status = await post(agent, base, delivery(source, i));
          statuses[status] = (statuses[status] ?? 0) + 1;
        } catch {
          errors++;
        }
      });
      agent.destroy();
      httpRates.push((n / httpMs) * 1000);
      const perWrite = meanBetween(before, await scrape(fn.url), 'dead_letter_intake_write_letters');
      httpPerWrite.push(perWrite?.mean ?? NaN);

      const refSource = `/bench/ref-${r}`;
      const ref = groupedWrites(refSource);
      const refMs = await countedLoop(n, connections, async (i) => { await ref.keep(i); });
      refRates.push((n / refMs) * 1000);
      refPerWrite.push(n / ref.sizes.length);

      const singleSource = `/bench/single-${r}`;
      const singleMs = await countedLoop(n, connections, async (i) => { await pool.query(write(singleSource, [i])); });
      singleRates.push((n / singleMs) * 1000);

      const [h, refCount, single] = [await count(source), await count(refSource), await count(singleSource)];
      checks.push(`run ${r + 1}: HTTP answers ${JSON.stringify(statuses)}${errors ? `, ${errors} without an answer` : ''}; letters kept ${h.letters}, history lines ${h.history}; reference letters ${refCount.letters}, history lines ${refCount.history}; one statement per letter: letters ${single.letters}, history lines ${single.history}`);
      if (statuses[201] !== n || errors) problems.push(`run ${r + 1}: ${n} deliveries answered ${JSON.stringify(statuses)} with ${errors} errors, not ${n} × 201`);
      if (h.letters !== n || h.history !== n) problems.push(`run ${r + 1}: ${h.letters} letters and ${h.history} history lines kept for ${n} deliveries`);
      if (refCount.letters !== n || single.letters !== n) problems.push(`run ${r + 1}: the reference kept ${refCount.letters} letters and one statement per letter ${single.letters}, not ${n}`);
      ctx.log(`  run ${r + 1}: intake ${fmt(httpRates[r])} letters/s (${fmt(httpPerWrite[r])} per write); reference ${fmt(refRates[r])} letters/s (${fmt(refPerWrite[r])} per write); one statement per letter ${fmt(singleRates[r])} letters/s`);
    }
    const h = median(httpRates);
    const ref = median(refRates);
    const single = median(singleRates);
    const { rows: [size] } = await pool.query<{ letters: number; bytes: string }>(`SELECT count(*)::int AS letters, pg_size_pretty(pg_total_relation_size('dead_letter.dead_letter')) AS bytes FROM dead_letter.dead_letter`);
    return {
      n: 7,
      name: `Dead-letter intake (${n.toLocaleString('en-US')} failed events over HTTP → one letter each)`,
      result: `${fmt(h)} letters/s`,
      reference: `${fmt(ref)} letters/s (its statements with pg, grouped alike, ${POOL} connections)`,
      ratio: ratio(h, ref),
      target: `≥ ${TARGET}×; issue: ${ISSUE_RATE.toLocaleString('en-US')} letters/s`,
      met: h / ref >= TARGET && h >= ISSUE_RATE,
      notes: [
        `the intake sends one statement per write (wire capture below, a write of one letter): the letters and their first history lines in one round trip; letters per write (median of the runs' means): intake ${fmt(median(httpPerWrite))} (dead_letter_intake_write_letters), reference ${fmt(median(refPerWrite))}`,
        `the issue asks for ${ISSUE_RATE.toLocaleString('en-US')} letters/s: this run's intake reached ${fmt(h)} (${ratio(h, ISSUE_RATE)} of it) and PostgreSQL alone, with the same statements grouped alike, ${fmt(ref)} (${ratio(ref, ISSUE_RATE)}) on this machine`,
        `the same statement sent once per letter with pg (no grouping, as the intake wrote before group commit): ${fmt(single)} letters/s; the intake reached ${ratio(h, single)} of it`,
        ...checks,
        `dead_letter.dead_letter at the end: ${size.letters.toLocaleString('en-US')} letters, ${size.bytes} with its indexes`,
      ],
      inputs: [
        `${n.toLocaleString('en-US')} deliveries per run, ${connections} keep-alive HTTP connections (http.request), POST /?kafkasource=${KAFKA_SOURCE}: binary CloudEvent com.medlab.booking.requested (a new ce-id each), knativeerrordest ${DEST}, knativeerrorcode 422, knativeerrordata a problem+json, knativekafkapartition/offset, partitionkey; data {requestId, patientId, slotId}`,
        `dead-letter-intake: built JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info (one error-level line per letter, as in production), DATABASE_POOL_SIZE=${POOL}, DEAD_LETTER_POLICY_FILE from knative/base/dead-letter/policy.yaml; own database (migrated)`,
        `reference: the statement the intake sent for a write of one letter (captured on the wire after 2 unrecorded deliveries), each letter's event id, letter id and source put in, its rows grouped by the intake's group commit (functions/shared/group-commit.ts: at most ${KEEP_LIMITS.maxItems} letters and ${KEEP_LIMITS.maxBytes / 1024 / 1024} MiB per write, ${KEEP_LIMITS.maxWrites} writes in flight) and sent with pg (pool of ${POOL}, ${connections} letters in flight) to the same database; then the same statement once per letter (${connections} in flight)`,
        `${config.repeats} runs alternating (intake, reference, one statement per letter) after 500 unmeasured letters of the first two; letters/s = N / wall time of the run`,
      ],
      runs: [`intake letters/s: ${runs(httpRates)}`, `reference letters/s: ${runs(refRates)}`, `one statement per letter letters/s: ${runs(singleRates)}`,
        `letters per write: intake ${runs(httpPerWrite)}; reference ${runs(refPerWrite)}`],
      appendix: `What the intake sent for a write of one letter (wire capture):\n\n${describeStatements(captured.statements, 3000).join('\n')}`,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
    rmSync(policyDir, { recursive: true, force: true });
  }
}
