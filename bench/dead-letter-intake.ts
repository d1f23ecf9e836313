// Row 7 — dead-letter intake throughput. 10,000 failed events delivered to the intake (built, faas-js-runtime
// CLI) over HTTP as Knative's delivery sends them to a dead-letter sink: binary CloudEvents with
// knativeerrordest, knativeerrorcode, knativeerrordata and the KafkaSource's partition and offset, each a new
// event, from concurrent keep-alive connections. The reference sends the very statement the intake sends for
// one letter (captured on the wire from the function itself, lib/pg-wire.ts), with each letter's own ids,
// straight to PostgreSQL with pg over as many connections as the intake's pool, as many in flight as the
// HTTP clients: the ratio is what the function (HTTP, CloudEvent parsing, Prisma) adds to its one statement.
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
import { median, fmt, ratio, runs } from './lib/stats';

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

/** The statement(s) the intake sends for one letter (the third delivery: the first ones connect and warm up). */
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
    if (!window.length) throw new Error('the intake sent no statement for a letter');
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
    const replay = (s: WireStatement, source: string, i: number) => {
      const eventId = `${source}-${i}`;
      const letterId = randomUUID();
      const values = s.values.map((v) => v === null ? null : v.split(captured.letterId).join(letterId).split(captured.eventId).join(eventId).split(captured.source).join(source));
      return s.protocol === 'extended' ? { text: s.sql, values } : { text: s.sql };
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
    await countedLoop(500, connections, async (i) => { for (const s of captured.statements) await pool.query(replay(s, '/bench/warm-ref', i)); });

    const httpRates: number[] = [];
    const refRates: number[] = [];
    const problems: string[] = [];
    const checks: string[] = [];
    for (let r = 0; r < config.repeats; r++) {
      const source = `/bench/http-${r}`;
      const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
      const statuses: Record<number, number> = {};
      let errors = 0;
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

      const refSource = `/bench/ref-${r}`;
      const refMs = await countedLoop(n, connections, async (i) => {
        for (const s of captured.statements) await pool.query(replay(s, refSource, i));
      });
      refRates.push((n / refMs) * 1000);

      const [h, ref] = [await count(source), await count(refSource)];
      checks.push(`run ${r + 1}: HTTP answers ${JSON.stringify(statuses)}${errors ? `, ${errors} without an answer` : ''}; letters kept ${h.letters}, history lines ${h.history}; reference letters ${ref.letters}, history lines ${ref.history}`);
      if (statuses[201] !== n || errors) problems.push(`run ${r + 1}: ${n} deliveries answered ${JSON.stringify(statuses)} with ${errors} errors, not ${n} × 201`);
      if (h.letters !== n || h.history !== n) problems.push(`run ${r + 1}: ${h.letters} letters and ${h.history} history lines kept for ${n} deliveries`);
      if (ref.letters !== n) problems.push(`run ${r + 1}: the reference kept ${ref.letters} letters, not ${n}`);
      ctx.log(`  run ${r + 1}: intake ${fmt(httpRates[r])} letters/s; reference ${fmt(refRates[r])} letters/s`);
    }
    const h = median(httpRates);
    const ref = median(refRates);
    const { rows: [size] } = await pool.query<{ letters: number; bytes: string }>(`SELECT count(*)::int AS letters, pg_size_pretty(pg_total_relation_size('dead_letter.dead_letter')) AS bytes FROM dead_letter.dead_letter`);
    return {
      n: 7,
      name: `Dead-letter intake (${n.toLocaleString('en-US')} failed events over HTTP → one letter each)`,
      result: `${fmt(h)} letters/s`,
      reference: `${fmt(ref)} letters/s (its statement with pg, ${POOL} connections)`,
      ratio: ratio(h, ref),
      target: `≥ ${TARGET}×; issue: ${ISSUE_RATE.toLocaleString('en-US')} letters/s`,
      met: h / ref >= TARGET && h >= ISSUE_RATE,
      notes: [
        `the intake sends ${captured.statements.length} statement(s) per letter (wire capture below): the letter and its first history line in one round trip`,
        `the issue asks for ${ISSUE_RATE.toLocaleString('en-US')} letters/s: this run's intake reached ${fmt(h)} (${ratio(h, ISSUE_RATE)} of it) and PostgreSQL alone, with the same statement, ${fmt(ref)} (${ratio(ref, ISSUE_RATE)}) on this machine`,
        ...checks,
        `dead_letter.dead_letter at the end: ${size.letters.toLocaleString('en-US')} letters, ${size.bytes} with its indexes`,
      ],
      inputs: [
        `${n.toLocaleString('en-US')} deliveries per run, ${connections} keep-alive HTTP connections (http.request), POST /?kafkasource=${KAFKA_SOURCE}: binary CloudEvent com.medlab.booking.requested (a new ce-id each), knativeerrordest ${DEST}, knativeerrorcode 422, knativeerrordata a problem+json, knativekafkapartition/offset, partitionkey; data {requestId, patientId, slotId}`,
        `dead-letter-intake: built JS under the faas-js-runtime CLI (1 process), NODE_ENV=production, LOG_LEVEL=info (one error-level line per letter, as in production), DATABASE_POOL_SIZE=${POOL}, DEAD_LETTER_POLICY_FILE from knative/base/dead-letter/policy.yaml; own database (migrated)`,
        `reference: the statement(s) the intake sent for one letter (captured on the wire after 2 unrecorded deliveries), each letter's event id, letter id and source put in, sent with pg (pool of ${POOL}, ${connections} in flight) to the same database`,
        `${config.repeats} runs alternating (intake, then reference) after 500 unmeasured letters of each; letters/s = N / wall time of the run`,
      ],
      runs: [`intake letters/s: ${runs(httpRates)}`, `reference letters/s: ${runs(refRates)}`],
      appendix: `What the intake sent for one letter (wire capture):\n\n${describeStatements(captured.statements, 3000).join('\n')}`,
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await fn?.stop();
    await pool.end();
    rmSync(policyDir, { recursive: true, force: true });
  }
}
