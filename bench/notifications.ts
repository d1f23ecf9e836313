// Row 12 — notifications. N com.medlab.result.released CloudEvents (Kafka binary mode, key = patientId, one
// accession each, critical: see below) are produced to result-events; the KafkaSource-equivalent dispatchers
// (scripts/lib/runtime/dispatcher.ts, configured from knative/'s KafkaSources, in one process of their own as
// Knative's kafka-source-dispatcher: bench/lib/dispatcher-process.ts) deliver them to the built
// notification-results-consumer, which writes the notice and plans it (intake/dispatch.ts: the patient's
// preference, contacts, push subscriptions) in its transaction, writes the in-app inbox item there, and
// publishes the one external channel's delivery-due on notification-deliveries; notification-sender takes it, claims it, sends it to the
// provider stand-ins (scripts/lib/laptop/providers: a real SMTP server, a Twilio-shaped SMS API, a Web Push
// service that checks VAPID and decrypts) and records it; the SMS stand-in's signed callbacks reach the built
// notification-sms-callback through the gateway's rewrite of its HTTPRoute (the public path to the function's root), whose delivery-reported events the updates consumer applies. Every function runs
// as its container runs it (faas-js-runtime CLI, the built bundle), each in its own process.
// Measured: events/s = N / (first produce → last message accepted by a stand-in, the stand-in's receive time).
// Reference, same run: a bare sender that sends the very messages the stand-ins caught in the pipeline run
// (same addresses, channels, texts, payloads) straight to the same stand-ins with the same libraries and
// options (nodemailer from the same SMTP URL, fetch to the Messages API with Basic auth and an idempotency
// token, web-push with the same VAPID pair, TTL, urgency and keep-alive agent), with as many in flight as the
// sender's KafkaSource allows (ordered: one per partition × consumers).
// Why critical releases: a non-critical report waits for its visit's results window (at least 1 minute,
// NOTIFICATION_RESULTS_WINDOW_MINUTES, 10 by default), and then for the cron. The critical path writes the same
// notice, plans the same channels and emits the same delivery-due, only in the consumer's own transaction
// instead of the cron's: the measure holds every step a released result takes except the deliberate wait.
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { load as loadYaml } from 'js-yaml';
import nodemailer from 'nodemailer';
import webpush from 'web-push';
import type { Producer, Message } from 'kafkajs';
import { kafkaClient } from '../functions/shared/kafka';
import type { SourceBinding } from '../scripts/lib/runtime/dispatcher';
import { startDispatcherProcess, type DispatcherProcess, type RemoteDispatcher } from './lib/dispatcher-process';
import { loadManifests, type KafkaSourceManifest } from '../scripts/lib/manifests';
import { startSmtpStandIn, type SmtpStandIn, type CaughtEmail } from '../scripts/lib/laptop/providers/smtp';
import { startSmsStandIn, type SmsStandIn, type CaughtSms } from '../scripts/lib/laptop/providers/sms';
import { startPushStandIn, type PushStandIn, type CaughtPush } from '../scripts/lib/laptop/providers/push';
import { LAPTOP_VAPID } from '../functions/notification/channels/settings';
import type { BenchContext, Row } from './lib/context';
import { startFunctionProcess, ROOT, sleep, cpuMs, cpuMsOfCommand, type FunctionProcess } from './lib/procs';
import { freePort } from '../scripts/lib/runtime/host';
import { shortFetchWait, FETCH_WAIT_MS } from './lib/kafka-fetch-wait';
import { median, percentile, fmt, ms, ratio, runs } from './lib/stats';
import { scrape, meanBetween, type Sample } from './lib/prometheus';

const CHANNELS = ['sms', 'email', 'push'] as const;
type External = (typeof CHANNELS)[number];
const PATIENT = (i: number) => `bench-np-${i}`;
const channelOf = (i: number): External => CHANNELS[i % 3];
const SECRET = 'bench-notification-link-secret-0123456789abcdef';
/** Releases through the whole path before the measured runs. */
const WARM_UP = 120;

/** The functions of the path, their built entries, and the KafkaSource that feeds each (none: an HTTP route or the cron). */
const FUNCTIONS = {
  results: { name: 'notification-results-consumer', entry: 'functions/notification/results-consumer/index.ts' },
  sender: { name: 'notification-sender', entry: 'functions/notification/sender/index.ts' },
  updates: { name: 'notification-updates-consumer', entry: 'functions/notification/updates-consumer/index.ts' },
  callback: { name: 'notification-sms-callback', entry: 'functions/notification/sms-callback/index.ts' },
  cron: { name: 'notification-cron', entry: 'functions/notification/cron/index.ts' },
} as const;
export const NOTIFICATION_ENTRIES = Object.values(FUNCTIONS).map((f) => f.entry);

interface Caught { accession: string; deliveryId: string; channel: External; at: number }

/** Everything the stand-ins accepted since `from` (indexes into their arrays), keyed back to deliveries. */
interface Marks { email: number; sms: number; push: number }

const marks = (s: { smtp: SmtpStandIn; sms: SmsStandIn; push: PushStandIn }): Marks => ({ email: s.smtp.emails.length, sms: s.sms.messages.length, push: s.push.received.length });
const total = (m: Marks) => m.email + m.sms + m.push;

function release(i: number, accession: string, patients: number): Message {
  const patientId = PATIENT(i % patients);
  return {
    key: patientId,
    value: JSON.stringify({ reportId: `rep-${accession}`, patientId, accession, status: 'final', releasedAt: new Date().toISOString(), critical: true }),
    headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/bench/lis', ce_type: 'com.medlab.result.released', 'content-type': 'application/json' },
  };
}

async function until(done: () => number, target: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = done();
    if (n >= target) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what}: ${target - n} of ${target} not there within ${timeoutMs / 1000} s`);
    await sleep(5);
  }
}

export async function notifications(ctx: BenchContext): Promise<Row> {
  const { config } = ctx;
  const N = config.notifyEvents;
  const brokers = ctx.kafkaBrokers.split(',');
  shortFetchWait();
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-notify-'));
  const procs: Partial<Record<keyof typeof FUNCTIONS, FunctionProcess>> = {};
  let dispatcherProcess: DispatcherProcess | undefined;
  let producer: Producer | undefined;
  let smtp: SmtpStandIn | undefined;
  let sms: SmsStandIn | undefined;
  let push: PushStandIn | undefined;
  let noop: http.Server | undefined;
  let gateway: http.Server | undefined;
  try {
    // The stand-ins, and a no-op callback receiver for the reference's SMS (its messages name no delivery).
    smtp = await startSmtpStandIn();
    sms = await startSmsStandIn({ accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: `token-${randomUUID()}` });
    push = await startPushStandIn();
    const standIns = { smtp, sms, push };
    noop = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
    await new Promise<void>((r) => noop!.listen(0, '127.0.0.1', () => r()));
    const noopUrl = `http://127.0.0.1:${(noop.address() as { port: number }).port}/callbacks/sms`;

    // The policy the Services mount (the ConfigMap's policy.yaml), as a file.
    const manifest = loadYaml(readFileSync(path.join(ROOT, 'knative/base/notification/policy.yaml'), 'utf8')) as { data: Record<string, string> };
    const policyFile = path.join(tmp, 'policy.yaml');
    writeFileSync(policyFile, manifest.data['policy.yaml']);

    // Patients: contacts with one external channel each (a third SMS, a third email, a third push with a
    // stand-in subscription), a results preference [in-app, that channel] with no quiet hours.
    const patients = Math.max(30, Math.min(N, 300));
    const subs = new Map<string, { endpoint: string; p256dh: string; auth: string }>();
    for (let i = 0; i < patients; i++) {
      const ch = channelOf(i);
      await pool.query(`INSERT INTO notification.contact_point (patient_id, email, phone, language, timezone, tier, updated_at) VALUES ($1, $2, $3, $4, 'Asia/Ho_Chi_Minh', 'standard', now())`,
        [PATIENT(i), ch === 'email' ? `${PATIENT(i)}@example.com` : null, ch === 'sms' ? `+849${String(10_000_000 + i)}` : null, i % 2 ? 'en' : 'vi']);
      await pool.query(`INSERT INTO notification.preference (patient_id, category, channels, quiet_start, quiet_end, updated_at) VALUES ($1, 'results', $2, '00:00', '00:00', now())`, [PATIENT(i), ['in-app', ch]]);
      if (ch === 'push') {
        const s = push.subscribe();
        subs.set(s.id, s);
        await pool.query(`INSERT INTO notification.push_subscription (id, patient_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4, $5)`, [s.id, PATIENT(i), s.endpoint, s.p256dh, s.auth]);
      }
    }

    // The functions. The results and updates consumers run as in production (NODE_ENV=production, the policy
    // file, a link secret); the sender and the SMS callback route outside production, because production
    // refuses an http SMS API and an http public URL, and the stand-ins and this machine speak http.
    const callbackPort = await freePort();
    const publicUrl = `http://127.0.0.1:${callbackPort}`;
    const providers: NodeJS.ProcessEnv = {
      NODE_ENV: 'development',
      SMTP_URL: smtp.url, NOTIFICATION_EMAIL_FROM: 'MedLab <no-reply@medlab.example>',
      SMS_API_URL: sms.url, SMS_ACCOUNT_SID: sms.accountSid, SMS_AUTH_TOKEN: sms.authToken, SMS_FROM: 'MEDLAB',
      VAPID_PUBLIC_KEY: LAPTOP_VAPID.publicKey, VAPID_PRIVATE_KEY: LAPTOP_VAPID.privateKey, VAPID_SUBJECT: 'mailto:no-reply@medlab.example',
      WEB_PUSH_EXTRA_CA: push.ca, PUBLIC_URL: publicUrl,
    };
    const common = { NOTIFICATION_POLICY_FILE: policyFile, NOTIFICATION_LINK_SECRET: SECRET };
    const envOf = (key: keyof typeof FUNCTIONS) => ctx.functionEnv(FUNCTIONS[key].name, key === 'sender' || key === 'callback' || key === 'cron' ? { ...common, ...providers } : common);
    const start = async (key: keyof typeof FUNCTIONS, port?: number) => {
      const f = FUNCTIONS[key];
      const p = await startFunctionProcess({ name: f.name, file: ctx.build.js(f.entry), cwd: path.join(ROOT, path.dirname(f.entry)), env: envOf(key), ...(port ? { port } : {}) });
      procs[key] = p;
      return p;
    };
    await start('results');
    await start('sender');
    await start('updates');
    await start('callback');
    await start('cron');
    // The SMS provider calls back on the portal's public address; there the gateway's HTTPRoute
    // (knative/base/notification/routes-callbacks.yaml) takes the callback's exact path and sends it to the
    // function at "/" with the query kept, as functions answer at their root. PUBLIC_URL is this rewrite.
    const manifests = loadManifests();
    const callbackRoute = manifests.routes.find((r) => r.service === FUNCTIONS.callback.name && r.method === 'POST');
    if (!callbackRoute) throw new Error(`knative/ declares no HTTPRoute for ${FUNCTIONS.callback.name}`);
    gateway = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', publicUrl);
      if (req.method !== callbackRoute.method || url.pathname !== callbackRoute.path) return void req.resume().on('end', () => res.writeHead(404).end());
      const upstream = http.request(`${procs.callback!.url}/${url.search}`, { method: req.method, headers: { ...req.headers, host: new URL(procs.callback!.url).host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.end(); });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => gateway!.listen(callbackPort, '127.0.0.1', () => r()));

    producer = kafkaClient('bench-notify-producer', brokers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    // The topics exist before the groups join (the mock broker makes them, 4 partitions, on first use).
    for (const topic of ['result-events', 'notification-deliveries', 'notification-updates', 'notification-events']) await producer.send({ topic, messages: [] }).catch(() => undefined);
    const admin = kafkaClient('bench-notify-admin', brokers).admin();
    await admin.connect();
    const partitionsOf = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;

    const sourceOf = (service: string): KafkaSourceManifest => {
      const s = manifests.kafkaSources.find((x) => x.sink.service === service);
      if (!s) throw new Error(`knative/ declares no KafkaSource for ${service}`);
      return s;
    };
    const bindings: Record<'results' | 'sender' | 'updates', SourceBinding> = {
      results: { source: sourceOf(FUNCTIONS.results.name), sinkUrl: procs.results!.url },
      sender: { source: sourceOf(FUNCTIONS.sender.name), sinkUrl: procs.sender!.url },
      updates: { source: sourceOf(FUNCTIONS.updates.name), sinkUrl: procs.updates!.url },
    };
    const senderPartitions = await partitionsOf(bindings.sender.source.topics[0]);
    const resultsPartitions = await partitionsOf(bindings.results.source.topics[0]);
    const senderMembers = Math.max(1, bindings.sender.source.consumers);
    const inFlight = (bindings.sender.source.ordering === 'ordered' ? 1 : 50) * senderPartitions;
    // The KafkaSources' dispatcher runs in a process of its own, as Knative's does (dispatcher-process.ts).
    dispatcherProcess = await startDispatcherProcess(bindings, brokers);
    const disp = dispatcherProcess.dispatchers;
    const dispatchers = Object.values(disp);
    for (const [k, b] of Object.entries(bindings)) ctx.log(`  group ${b.source.consumerGroup}: joined in ${dispatcherProcess.joinedMs[k]} ms`);
    await admin.disconnect();

    // Deliveries back to their accession (after a run: the rows exist by then).
    const accessionOf = new Map<string, string>();
    const learn = async () => {
      const { rows } = await pool.query<{ d: string; n: string; acc: string }>(
        `SELECT d.id::text AS d, n.id::text AS n, n.variables->>'accession' AS acc FROM notification.delivery d JOIN notification.notification n ON n.id = d.notification_id
         WHERE n.patient_id LIKE 'bench-np-%' AND d.channel <> 'in-app'`);
      for (const r of rows) { accessionOf.set(r.d, r.acc); accessionOf.set(`n:${r.n}`, r.acc); }
    };
    const caughtSince = async (m: Marks): Promise<{ caught: Caught[]; unknown: number }> => {
      await learn();
      const caught: Caught[] = [];
      let unknown = 0;
      const add = (deliveryId: string | undefined, key: string | undefined, channel: External, at: string) => {
        const acc = key && accessionOf.get(key);
        if (!acc || !deliveryId) { unknown++; return; }
        caught.push({ accession: acc, deliveryId, channel, at: Date.parse(at) });
      };
      for (const e of smtp!.emails.slice(m.email)) add(e.deliveryId, e.deliveryId, 'email', e.at);
      for (const s of sms!.messages.slice(m.sms)) add(s.deliveryId, s.deliveryId, 'sms', s.at);
      for (const p of push!.received.slice(m.push)) {
        const nid = (p.payload as { notificationId?: string })?.notificationId;
        add(nid && `push:${nid}`, nid && `n:${nid}`, 'push', p.at);
      }
      return { caught, unknown };
    };

    let seq = 0;
    const batchOf = (n: number) => {
      const accessions = Array.from({ length: n }, () => `ACC-B12-${process.pid}-${++seq}`);
      return { accessions, messages: accessions.map((a, k) => release(seq - n + k, a, patients)) };
    };

    // Warm-up: WARM_UP releases through every group and function (and every partition of result-events), so
    // the runs measure functions that have been serving: their pools' connections open with their statements
    // prepared, their code compiled by the JIT.
    {
      const m0 = marks(standIns);
      const w = batchOf(WARM_UP);
      const parts = await (async () => { const a = kafkaClient('bench-notify-admin2', brokers).admin(); await a.connect(); const p = (await a.fetchTopicMetadata({ topics: ['result-events'] })).topics[0].partitions.length; await a.disconnect(); return p; })();
      await producer.send({ topic: 'result-events', messages: w.messages.map((x, i) => ({ ...x, partition: i % parts })), acks: -1 });
      await until(() => total(marks(standIns)) - total(m0), WARM_UP, 120_000, 'warm-up messages at the stand-ins');
    }

    // ---------- the reference: a bare sender of given messages ----------
    const transport = nodemailer.createTransport({ url: smtp.url, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 });
    const agent = new https.Agent({ ca: [...rootCertificates, push.ca], keepAlive: true });
    const smsAuth = `Basic ${Buffer.from(`${sms.accountSid}:${sms.authToken}`).toString('base64')}`;
    const vapid = { publicKey: LAPTOP_VAPID.publicKey, privateKey: LAPTOP_VAPID.privateKey, subject: 'mailto:no-reply@medlab.example' };
    type Job = { channel: 'email'; m: CaughtEmail } | { channel: 'sms'; m: CaughtSms } | { channel: 'push'; m: CaughtPush };
    const sendOne = async (job: Job): Promise<void> => {
      const key = randomUUID();
      if (job.channel === 'email') {
        await transport.sendMail({ from: 'MedLab <no-reply@medlab.example>', to: job.m.to.join(', '), subject: job.m.subject, text: job.m.text, messageId: `<${key}@medlab.example>`, headers: { 'X-Medlab-Delivery-Id': `ref-${key}` } });
      } else if (job.channel === 'sms') {
        const res = await fetch(`${sms!.url}/2010-04-01/Accounts/${encodeURIComponent(sms!.accountSid)}/Messages.json`, {
          method: 'POST',
          headers: { authorization: smsAuth, 'content-type': 'application/x-www-form-urlencoded', 'i-twilio-idempotency-token': key },
          body: new URLSearchParams({ To: job.m.to, From: 'MEDLAB', Body: job.m.body, StatusCallback: `${noopUrl}?deliveryId=ref-${key}` }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.json();
        if (res.status !== 201) throw new Error(`reference SMS answered ${res.status}`);
      } else {
        const s = subs.get(job.m.subscriptionId)!;
        await webpush.sendNotification({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, JSON.stringify(job.m.payload), {
          vapidDetails: vapid, TTL: 24 * 3600, timeout: 10_000, urgency: 'normal', agent, topic: key.replace(/-/g, '').slice(0, 32),
        });
      }
    };
    const bare = async (jobs: Job[]): Promise<{ perSec: number; ms: number }> => {
      const m0 = marks(standIns);
      let next = 0;
      const t0 = Date.now();
      await Promise.all(Array.from({ length: inFlight }, async () => { while (next < jobs.length) await sendOne(jobs[next++]); }));
      const end = await until(() => total(marks(standIns)) - total(m0), jobs.length, 60_000, 'reference messages');
      const last = Math.max(...smtp!.emails.slice(m0.email).map((e) => Date.parse(e.at)), ...sms!.messages.slice(m0.sms).map((e) => Date.parse(e.at)), ...push!.received.slice(m0.push).map((e) => Date.parse(e.at)));
      const tookMs = Math.max(1, Math.min(end, last) - t0);
      return { perSec: jobs.length / (tookMs / 1000), ms: tookMs };
    };

    // CPU used by each process (ms): the functions, the dispatcher, and this one (stand-ins, gateway, the reference).
    const cpuNow = (): Record<string, number> => ({
      ...Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p!.child.pid ? cpuMs(p!.child.pid) : 0])),
      dispatcher: cpuMs(dispatcherProcess!.pid),
      bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      postgres: cpuMsOfCommand('postgres'),
      'kafka mock': cpuMsOfCommand('kcat'),
    });

    // ---------- the measured runs ----------
    const pipe: Array<{ perSec: number; p50: number; p99: number; byChannel: Record<string, number>; resultsDoneMs: number; senderDoneMs: number; execMs: Record<string, number>; cpu: Record<string, number> }> = [];
    const handled = (d: RemoteDispatcher) => d.counts.delivered + d.counts['dead-lettered'] + d.counts.dropped;
    const ref: Array<{ perSec: number; ms: number }> = [];
    const problems: string[] = [];
    const firstAt = (caught: Caught[]) => {
      const first = new Map<string, number>();
      for (const c of caught) if (!first.has(c.accession) || first.get(c.accession)! > c.at) first.set(c.accession, c.at);
      return first;
    };
    for (let r = 0; r < config.repeats; r++) {
      const batch = batchOf(N);
      const m0 = marks(standIns);
      const before: Record<string, Sample[]> = {};
      for (const k of ['results', 'sender'] as const) before[k] = await scrape(procs[k]!.url);
      const h0 = { results: handled(disp.results), sender: handled(disp.sender) };
      const cpu0 = cpuNow();
      const stageDone: { results?: number; sender?: number } = {};
      const t0 = Date.now();
      await producer.send({ topic: 'result-events', messages: batch.messages, acks: -1 });
      // Where the time goes: when the results consumer had taken all N, when the sender had taken all N (the external channel's).
      await until(() => {
        if (!stageDone.results && handled(disp.results) - h0.results >= N) stageDone.results = Date.now();
        if (!stageDone.sender && handled(disp.sender) - h0.sender >= N) stageDone.sender = Date.now();
        return total(marks(standIns)) - total(m0);
      }, N, 300_000, `pipeline run ${r + 1}`);
      await until(() => { if (!stageDone.sender && handled(disp.sender) - h0.sender >= N) stageDone.sender = Date.now(); return stageDone.sender ? 1 : 0; }, 1, 60_000, `sender run ${r + 1}`);
      stageDone.results ??= Date.now();
      const cpu = Object.fromEntries(Object.entries(cpuNow()).map(([k, v]) => [k, v - cpu0[k]]));
      const execMs: Record<string, number> = {};
      for (const k of ['results', 'sender'] as const) execMs[k] = (meanBetween(before[k], await scrape(procs[k]!.url), 'faas_execution_latency')?.mean ?? NaN) * 1000;
      const { caught, unknown } = await caughtSince(m0);
      const last = Math.max(...caught.map((c) => c.at));
      const first = firstAt(caught);
      const lat = batch.accessions.filter((a) => first.has(a)).map((a) => first.get(a)! - t0);
      const byChannel = Object.fromEntries(CHANNELS.map((c) => [c, caught.filter((x) => x.channel === c).length]));
      if (unknown) problems.push(`pipeline run ${r + 1}: ${unknown} message(s) at the stand-ins name no delivery of this run`);
      pipe.push({ perSec: N / ((last - t0) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99), byChannel, resultsDoneMs: stageDone.results - t0, senderDoneMs: stageDone.sender! - t0, execMs, cpu });
      // The reference sends the very messages the stand-ins caught in this run.
      const jobs: Job[] = [
        ...smtp.emails.slice(m0.email).map((m) => ({ channel: 'email' as const, m })),
        ...sms.messages.slice(m0.sms).map((m) => ({ channel: 'sms' as const, m })),
        ...push.received.slice(m0.push).map((m) => ({ channel: 'push' as const, m })),
      ];
      jobs.sort((a, b) => Date.parse(a.m.at) - Date.parse(b.m.at));
      ref.push(await bare(jobs));
      ctx.log(`  run ${r + 1}: pipeline ${fmt(pipe[r].perSec)} events/s (${Object.entries(byChannel).map(([c, n]) => `${c} ${n}`).join(', ')}), bare sender ${fmt(ref[r].perSec)} messages/s`);
    }

    // ---------- latency at half the peak ----------
    const peak = median(pipe.map((p) => p.perSec));
    const rate = peak / 2;
    const count = Math.max(20, Math.round(rate * config.pacedSecs));
    const lat: Array<{ p50: number; p99: number }> = [];
    for (let r = 0; r < config.repeats; r++) {
      const batch = batchOf(count);
      const m0 = marks(standIns);
      const sentAt = new Map<string, number>();
      const sends: Promise<unknown>[] = [];
      const t0 = Date.now();
      for (let i = 0; i < count; i++) {
        const wait = t0 + (i * 1000) / rate - Date.now();
        if (wait > 0) await sleep(wait);
        sentAt.set(batch.accessions[i], Date.now());
        sends.push(producer.send({ topic: 'result-events', messages: [batch.messages[i]], acks: -1 }));
      }
      await Promise.all(sends);
      await until(() => total(marks(standIns)) - total(m0), count, 180_000, `paced run ${r + 1}`);
      const first = firstAt((await caughtSince(m0)).caught);
      const v = batch.accessions.filter((a) => first.has(a)).map((a) => first.get(a)! - sentAt.get(a)!);
      lat.push({ p50: percentile(v, 50), p99: percentile(v, 99) });
      ctx.log(`  paced ${r + 1} at ${fmt(rate)} events/s: p50 ${ms(lat[r].p50)}, p99 ${ms(lat[r].p99)}`);
    }

    // ---------- a killed sender ----------
    // One burst of N; when a third of its messages are at the stand-ins, the sender is SIGKILLed (as an OOM
    // kill or a node loss does) and started again on the same port; the dispatcher's delivery retries reach it.
    // A delivery the dead sender had claimed is held until its claim goes stale (CLAIM_STALE_SECONDS, 120 s):
    // then the cron's minute job re-emits it, as in production. Afterwards every release must reach its patient
    // exactly once as the patient sees it (no loss, no duplicate); what the providers accepted is counted too,
    // and a send that went twice on the wire (same identity, collapsed by the receiving side) is reported.
    const kill = batchOf(N);
    const km0 = marks(standIns);
    const senderPort = Number(new URL(procs.sender!.url).port);
    await producer.send({ topic: 'result-events', messages: kill.messages, acks: -1 });
    await until(() => total(marks(standIns)) - total(km0), Math.ceil(N / 3), 300_000, 'killed-sender run (before the kill)');
    const atKill = total(marks(standIns)) - total(km0);
    procs.sender!.child.kill('SIGKILL');
    await new Promise<void>((r) => (procs.sender!.child.exitCode !== null || procs.sender!.child.signalCode !== null ? r() : procs.sender!.child.once('exit', () => r())));
    const killedAt = Date.now();
    await start('sender', senderPort);
    ctx.log(`  sender SIGKILLed with ${atKill} of ${N} messages accepted; restarted in ${Date.now() - killedAt} ms`);
    const settle = async (ms_: number) => {
      let last = -1;
      let still = Date.now();
      const deadline = Date.now() + ms_;
      while (Date.now() < deadline) {
        const n = total(marks(standIns));
        if (n !== last) { last = n; still = Date.now(); }
        if (total(marks(standIns)) - total(km0) >= N && Date.now() - still > 3000) return;
        await sleep(200);
      }
    };
    await settle(60_000);
    const { rows: [held] } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM notification.delivery d JOIN notification.notification n ON n.id = d.notification_id
       WHERE n.variables->>'accession' = ANY($1::text[]) AND d.status = 'queued'`, [kill.accessions]);
    let cronRuns = 0;
    if (Number(held.n) > 0) {
      const wait = 120_000 - (Date.now() - killedAt) + 2_000;
      ctx.log(`  ${held.n} deliveries still queued (claimed by the dead sender): waiting ${fmt(wait / 1000)} s for the claims to go stale, then the cron`);
      if (wait > 0) await sleep(wait);
      const res = await fetch(procs.cron!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job: 'minute' }) });
      cronRuns++;
      ctx.log(`  cron: ${res.status} ${(await res.text()).slice(0, 200)}`);
      await settle(60_000);
    }
    const { caught: kc, unknown: ku } = await caughtSince(km0);
    // Sent: each message a provider accepted (the wire). A delivery sent twice is one the killed sender had
    // handed to its provider but not recorded: the stale claim sends it again, with the same identity.
    const perDelivery = new Map<string, number>();
    const wireTwice = new Map<string, number>();
    for (const c of kc) {
      if (perDelivery.has(c.deliveryId)) wireTwice.set(c.channel, (wireTwice.get(c.channel) ?? 0) + 1);
      perDelivery.set(c.deliveryId, (perDelivery.get(c.deliveryId) ?? 0) + 1);
    }
    const sentTwice = [...perDelivery.values()].reduce((a, n) => a + (n - 1), 0);
    // Seen: what reaches the patient, as the receiving side of each protocol keeps it. The SMS provider sends
    // nothing for an idempotency token it has taken (so its messages are what the phone shows); a mailbox
    // keeps one message per Message-ID; a browser shows one notification per tag (the notificationId), and a
    // push service replaces a message still held with one of the same Topic.
    const runAccessions = new Set(kill.accessions);
    const seenPer = new Map<string, number>();
    const see = (acc: string | undefined) => { if (acc && runAccessions.has(acc)) seenPer.set(acc, (seenPer.get(acc) ?? 0) + 1); };
    for (const m of sms.messages.slice(km0.sms)) see(m.deliveryId && accessionOf.get(m.deliveryId));
    const mailboxes = smtp.mailbox().filter((e) => e.deliveryId && runAccessions.has(accessionOf.get(e.deliveryId) ?? ''));
    for (const e of mailboxes) see(accessionOf.get(e.deliveryId!));
    for (const n of push.shown) see(accessionOf.get(`n:${n.tag}`));
    const losses = kill.accessions.filter((a) => !seenPer.has(a)).length;
    const duplicates = [...seenPer.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
    const sentNote = sentTwice
      ? `${sentTwice} sent twice (${[...wireTwice].map(([c, n]) => `${c} ${n}`).join(', ')}: handed to the provider by the killed sender before it recorded the send, sent again after its claim went stale with the same identity: idempotency token, Message-ID, push Topic and tag)`
      : 'none sent twice';
    if (losses) problems.push(`killed sender: ${losses} release(s) with nothing the patient sees`);
    if (duplicates) problems.push(`killed sender: ${duplicates} duplicate(s) the patient sees (${sentNote})`);
    if (ku) problems.push(`killed sender: ${ku} message(s) name no delivery of this run`);
    const dropped = dispatchers.reduce((a, d) => a + d.counts.dropped + d.counts['dead-lettered'], 0);
    if (dropped) problems.push(`dispatchers: ${dropped} event(s) dropped after their retries`);
    const callbacks = sms.messages.reduce((a, m) => a + m.callbacks.length, 0);
    const callbacksOk = sms.messages.reduce((a, m) => a + m.callbacks.filter((c) => c.answered >= 200 && c.answered < 300).length, 0);
    const callbackCodes = new Map<number, number>();
    for (const m of sms.messages) for (const c of m.callbacks) callbackCodes.set(c.answered, (callbackCodes.get(c.answered) ?? 0) + 1);

    if (callbacksOk < callbacks) problems.push(`SMS status callbacks: ${callbacks - callbacksOk} of ${callbacks} not answered 2xx through the gateway's route`);
    const refPeak = median(ref.map((p) => p.perSec));
    const met = peak / refPeak >= 0.5 && losses === 0 && duplicates === 0;
    const counts = Object.entries(disp).map(([k, d]) => `${k} ${d.counts.delivered} delivered/${d.counts.dropped} dropped`).join(', ');
    return {
      n: 12,
      name: 'Notifications (result-events → results consumer → sender → SMTP, SMS, Web Push stand-ins)',
      result: `${fmt(peak)} events/s`,
      reference: `${fmt(refPeak)} messages/s (bare sender: nodemailer, fetch, web-push; ${inFlight} in flight)`,
      ratio: ratio(peak, refPeak),
      target: '≥ 0.5×; 0 duplicates, 0 losses across a killed sender (as the patient sees them)',
      met,
      notes: [
        `release → first channel accepting (the stand-in's receive time) at half the peak (${fmt(rate)} events/s): p50 ${ms(median(lat.map((l) => l.p50)))}, p99 ${ms(median(lat.map((l) => l.p99)))}`,
        `where the time goes (burst of ${N}, medians): the results consumer had handled all ${N} after ${ms(median(pipe.map((p) => p.resultsDoneMs)))} (its own time per event ${ms(median(pipe.map((p) => p.execMs.results)))}, ${bindings.results.source.ordering}, ${Math.max(1, bindings.results.source.consumers)} member(s) over ${resultsPartitions} partitions); the sender had handled all ${N} delivery-due (the external channel's; the inbox item is written by the results consumer) after ${ms(median(pipe.map((p) => p.senderDoneMs)))} (its own time per event ${ms(median(pipe.map((p) => p.execMs.sender)))}); the bare sender took ${ms(median(ref.map((p) => p.ms)))} for the ${N} messages`,
        `CPU used during a burst of ${N} (median ms per process, PostgreSQL's backends together; 2 cores): ${Object.keys(pipe[0].cpu).map((k) => `${k} ${fmt(median(pipe.map((p) => p.cpu[k])))}`).join(', ')}`,
        `burst of ${N} (first produce → each release's message accepted): p50 ${ms(median(pipe.map((p) => p.p50)))}, p99 ${ms(median(pipe.map((p) => p.p99)))}`,
        `killed sender: SIGKILL with ${atKill} of ${N} messages accepted, restarted on its port; ${held.n} deliveries held by the dead sender's claims${cronRuns ? ', re-emitted by the cron once stale (120 s)' : ''}; what the patients see: duplicates ${duplicates}, losses ${losses} (releases seen exactly once: ${[...seenPer.values()].filter((n) => n === 1).length} of ${N}); what the providers accepted: ${kc.length} messages, ${sentNote}`,
        `channels per run: ${pipe.map((p) => Object.entries(p.byChannel).map(([c, n]) => `${c} ${n}`).join(', ')).join(' / ')}; SMS status callbacks made ${callbacks}, answered 2xx ${callbacksOk} (answers: ${[...callbackCodes].map(([c, n]) => `${c || 'none'} ×${n}`).join(', ')})`,
        `dispatchers: ${counts}`,
      ],
      inputs: [
        `${N} com.medlab.result.released per run (binary CloudEvents, key = patientId, one accession each, critical: true, so each is planned and dispatched in the results consumer's transaction rather than after the results window and the cron), produced in one send (acks all); events/s = N / (first produce → last message accepted by a stand-in); before the runs, ${WARM_UP} releases through the whole path (warm-up)`,
        `${patients} patients: contact_point with one address each and a results preference [in-app, sms|email|push] (a third each; push with one stand-in subscription), quiet hours 00:00–00:00; languages vi and en alternately`,
        `functions (built, faas-js-runtime CLI, 1 process each): results-consumer and updates-consumer with NODE_ENV=production, the policy ConfigMap as NOTIFICATION_POLICY_FILE and a link secret; sender, sms-callback and cron with NODE_ENV=development (production refuses the stand-ins' http SMS API and http public URL), LOG_LEVEL=info, DATABASE_POOL_SIZE=10`,
        `dispatchers: KafkaDispatcher per KafkaSource of knative/, all in one process of their own as Knative's kafka-source-dispatcher (results-consumer, sender, updates-consumer; ordering and consumers as declared: sender ${bindings.sender.source.ordering}, ${senderMembers} member(s) over ${senderPartitions} partitions); Kafka mock broker, maxWaitTimeInMs=${FETCH_WAIT_MS}`,
        `reference: the messages the stand-ins accepted in each pipeline run (same channels, addresses, subjects, texts, push payloads) sent again by one process with ${inFlight} workers (= the sender's partitions × consumers, ordered), nodemailer (no pool, same timeouts), fetch to the Messages API (Basic auth, idempotency token, a StatusCallback to a no-op receiver), web-push (same VAPID pair, TTL, urgency, keep-alive agent trusting the stand-in's CA)`,
        `latency: ${config.repeats} runs of ${count} releases produced one by one at 50% of the median peak (${config.pacedSecs} s each); BENCH_NOTIFY_EVENTS=${N}`,
      ],
      runs: [
        `pipeline events/s: ${runs(pipe.map((p) => p.perSec))}`,
        `results consumer done ms: ${runs(pipe.map((p) => p.resultsDoneMs))}; sender done ms: ${runs(pipe.map((p) => p.senderDoneMs))}; own time per event ms, results ${runs(pipe.map((p) => p.execMs.results))}, sender ${runs(pipe.map((p) => p.execMs.sender))}`,
        `bare sender messages/s: ${runs(ref.map((p) => p.perSec))}`,
        `paced p50 ms: ${runs(lat.map((l) => l.p50))}; p99 ms: ${runs(lat.map((l) => l.p99))}`,
      ],
      ok: problems.length === 0,
      problems,
    };
  } finally {
    await dispatcherProcess?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(Object.values(procs).map((p) => p?.stop()));
    await sms?.close().catch(() => undefined);
    await smtp?.close().catch(() => undefined);
    await push?.close().catch(() => undefined);
    for (const server of [noop, gateway]) if (server) { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); }
    await pool.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}
