// One trace per patient action, as a developer sees it on npm start's /traces page: the bundle runs as
// `npm start` runs it (its own process, tracing on, instrumentations loaded first) on this worker's
// PostgreSQL and Kafka mock broker, and the test reads the traces the gateway serves and the records on Kafka.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { watchBookingEvents, type BookingEventsWatch, type Seen } from './support/kafka';
import { db } from '../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, eventually } from './support/fixtures';

const ROOT = path.join(__dirname, '..');

interface SpanView {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: string; where: string;
  status: string; attributes: Record<string, unknown>;
}
/** traceparent → [trace id, span id]. */
const parts = (traceparent: string) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent);
  assert.ok(m, `${traceparent} is a W3C traceparent`);
  return [m[1], m[2]] as const;
};

describe('one trace per patient action (npm start on PostgreSQL and Kafka)', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let url = '';
  const logLines: Array<Record<string, any>> = [];
  let output = '';
  let producer: Producer;
  let kafkaWatch: BookingEventsWatch | undefined;
  let seen: Seen[] = [];

  before(async () => {
    const brokers = process.env.TEST_KAFKA_BROKERS!;
    await resetDatabase();
    await seedCatalogue();
    kafkaWatch = await watchBookingEvents(brokers, 'tracing-test');
    ({ producer, seen } = kafkaWatch);

    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(env, {
      DATABASE_URL: process.env.DATABASE_URL, KAFKA_BROKERS: brokers, PORT: '0', SEED_DEMO: 'false', LOG_LEVEL: 'info', NODE_ENV: 'development',
    });
    child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'scripts/local-runtime.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-20_000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) logLines.push(JSON.parse(line));
        const banner = /^\s+traces\s+(http:\/\/localhost:\d+)\/traces\b/.exec(line);
        if (banner) url = banner[1];
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString('utf8')).slice(-20_000); });
    await eventually(() => url || child.exitCode !== null, 'npm start to print its banner with the /traces URL', 90_000, 100);
    assert.ok(url, `npm start exited:\n${output}`);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await kafkaWatch?.stop();
  });

  const traceOf = (traceId: string) => call<{ spans: SpanView[] }>(`${url}/traces/${traceId}.json`).then((r) => (r.status === 200 ? r.body.spans : undefined));

  /** The trace once it holds a span matching `last` (spans are exported as they end). */
  const traceWith = (traceId: string, last: (s: SpanView) => boolean, what: string) =>
    eventually(async () => { const spans = await traceOf(traceId); return spans?.some(last) ? spans : undefined; }, `${what} in trace ${traceId}\n${output.slice(-3000)}`, 60_000, 200);

  /** Every span but the root has its parent in the trace: one tree, not pieces. */
  const assertOneTree = (spans: SpanView[], rootParent?: string) => {
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    assert.equal(roots.length, 1, `one root, got: ${roots.map((r) => `${r.name} (${r.where})`).join(', ')}`);
    if (rootParent) assert.equal(roots[0].parentSpanId, rootParent, 'the root is the child of the client span that sent the request');
  };

  /** No attribute of any span holds one of these values (request bodies, event data, SQL values). */
  const assertNowhere = (spans: SpanView[], values: string[]) => {
    for (const s of spans) for (const [k, v] of Object.entries(s.attributes)) for (const value of values) {
      assert.ok(!String(v).includes(value), `span ${s.name} attribute ${k} holds ${value}`);
    }
  };

  it('a booking through the portal route is one trace: gateway, book-slot, its SQL, the outbox publish and the Kafka send; the record carries it', async () => {
    const patient = `p-trace-${randomBytes(4).toString('hex')}`;
    const slot = await createSlot({ capacity: 2 });
    const res = await call(`${url}/api/bookings`, { token: patientToken(patient), body: { slotId: slot.id } });
    assert.equal(res.status, 201, JSON.stringify(res.body));

    const record = await eventually(async () => seen.find((s) => s.headers.ce_type === 'com.medlab.booking.confirmed' && s.key === res.body.bookingId), 'booking.confirmed on booking-events');
    assert.ok(record.headers.ce_traceparent, 'the CloudEvent carries the distributed-tracing extension');
    assert.equal(record.headers.traceparent, record.headers.ce_traceparent, 'the plain traceparent header names the same span');
    const [traceId, publishSpanId] = parts(record.headers.ce_traceparent);

    const spans = await traceWith(traceId, (s) => s.kind === 'producer' && s.attributes['messaging.system'] === 'kafka' && s.name === 'send booking-events', 'the Kafka send');
    assertOneTree(spans);
    const root = spans.find((s) => !s.parentSpanId)!;
    assert.equal(root.where, 'gateway');
    assert.equal(root.attributes['url.path'], '/api/bookings');
    assert.ok(spans.some((s) => s.kind === 'server' && s.where === 'book-slot'), 'the function received the request in the same trace');
    const route = spans.find((s) => s.name === 'POST /api/bookings' && s.attributes['faas.name'] === 'book-slot');
    assert.ok(route, 'the route span names its function');
    const statements = spans.filter((s) => typeof s.attributes['db.query.text'] === 'string' || typeof s.attributes['db.statement'] === 'string');
    const sql = (s: SpanView) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement']);
    assert.ok(statements.some((s) => /INSERT INTO "booking_queue"."outbox_event"/.test(sql(s))), 'the outbox insert is a span of the trace');
    assert.ok(statements.some((s) => /^COMMIT/i.test(sql(s))), 'the transaction commit is a span of the trace');
    const publish = spans.find((s) => s.spanId === publishSpanId);
    assert.ok(publish, 'the span the record names is in the trace');
    assert.equal(publish.name, 'publish com.medlab.booking.confirmed');
    assert.equal(publish.attributes['cloudevents.event_id'], record.headers.ce_id);
    assert.equal(publish.where, 'book-slot');

    // Parameterised SQL and no bodies: the patient, who is only in the token, the body and the SQL values, is in no span.
    assertNowhere(spans, [patient]);

    const logged = logLines.find((l) => l.msg === 'event published' && l.event?.id === record.headers.ce_id);
    assert.equal(logged?.trace_id, traceId, 'the log line of the publish names its trace');
  });

  it('a booking request put on Kafka is one trace through the KafkaSource to the consumer and the event it emits', async () => {
    const slot = await createSlot({ capacity: 1 });
    const requestId = randomUUID();
    const clientTrace = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    // As the patient-booking system would put it there, from a traced request of its own.
    const put = await call(`${url}/topics/booking-requests`, {
      headers: { 'content-type': 'application/cloudevents+json', traceparent: `00-${clientTrace}-${clientSpan}-01` },
      raw: JSON.stringify({ specversion: '1.0', type: 'com.medlab.booking.requested', source: '/patient-booking', id: randomUUID(), data: { requestId, patientId: 'p-trace-kafka', slotId: slot.id } }),
    });
    assert.equal(put.status, 202, JSON.stringify(put.body));

    const confirmed = await eventually(async () => seen.find((s) => s.headers.ce_type === 'com.medlab.booking.confirmed' && s.value.requestId === requestId), 'the consumer\'s booking.confirmed on booking-events', 90_000);
    const [traceId] = parts(confirmed.headers.ce_traceparent);
    assert.equal(traceId, clientTrace, 'the event the consumer emitted continues the trace of the request');

    const spans = await traceWith(clientTrace, (s) => s.name === 'send booking-events', 'the consumer\'s Kafka send');
    assertOneTree(spans, clientSpan);
    const find = (what: string, p: (s: SpanView) => boolean) => { const s = spans.find(p); assert.ok(s, `${what} in the trace: ${spans.map((x) => `${x.name}@${x.where}`).join(', ')}`); return s; };
    find('the gateway putting the record on the topic', (s) => s.where === 'gateway' && s.attributes['url.path'] === '/topics/booking-requests');
    find('the Kafka send to booking-requests', (s) => s.name === 'send booking-requests' && s.kind === 'producer');
    const delivery = find('the KafkaSource delivery', (s) => s.name === 'deliver com.medlab.booking.requested' && s.where === 'KafkaSource/booking-consumer-source');
    assert.equal(delivery.attributes['knative.delivery.outcome'], 'delivered');
    const consumed = find('the consumer handling it', (s) => s.name === 'consume com.medlab.booking.requested' && s.where === 'booking-consumer');
    assert.equal(consumed.attributes['cloudevents.event_type'], 'com.medlab.booking.requested');
    find('the consumer\'s inbox insert', (s) => /INSERT INTO "booking_queue"."inbox_event"/.test(String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '')));
    const publish = find('the consumer publishing booking.confirmed', (s) => s.name === 'publish com.medlab.booking.confirmed' && s.where === 'booking-consumer');
    assert.equal(parts(confirmed.headers.ce_traceparent)[1], publish.spanId, 'the emitted record names its publish span');
    // Event data (the request id is only there) reaches no span.
    assertNowhere(spans, [requestId]);
  });

  it('an event the batch publisher sends later continues the trace it was emitted in', async () => {
    const emittedTrace = randomBytes(16).toString('hex');
    const emittedSpan = randomBytes(8).toString('hex');
    const id = randomUUID();
    const bookingId = randomUUID();
    // An event whose post-commit publish did not happen (Kafka was down): it waits in the outbox with its context.
    await db().bookingQueueOutboxEvent.create({
      data: {
        id, topic: 'booking-events', key: bookingId, type: 'com.medlab.booking.status-changed', source: '/booking-queue/booking-status',
        data: { bookingId, from: 'confirmed', to: 'checked_in' }, traceparent: `00-${emittedTrace}-${emittedSpan}-01`,
      },
    });
    const run = await call(`${url}/functions/booking-queue-outbox-publisher`, { method: 'POST', body: {} });
    assert.equal(run.status, 200, JSON.stringify(run.body));

    const record = await eventually(async () => seen.find((s) => s.headers.ce_id === id), 'the swept event on booking-events');
    const [traceId, spanId] = parts(record.headers.ce_traceparent);
    assert.equal(traceId, emittedTrace);
    const spans = await traceWith(emittedTrace, (s) => s.spanId === spanId, 'the publish span');
    const publish = spans.find((s) => s.spanId === spanId)!;
    assert.equal(publish.name, 'publish com.medlab.booking.status-changed');
    assert.equal(publish.parentSpanId, emittedSpan, 'the publish span is a child of the context stored with the event');
  });

  it('the gateway serves the traces as a page', async () => {
    const res = await fetch(`${url}/traces`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    const page = await res.text();
    assert.match(page, /POST \/api\/bookings/);
    const [first] = (await call<{ traces: Array<{ traceId: string }> }>(`${url}/traces.json`)).body.traces;
    const waterfall = await fetch(`${url}/traces/${first.traceId}`);
    assert.equal(waterfall.status, 200);
    assert.match(await waterfall.text(), /timeline/);
  });
});

describe('tracing off costs nothing to load', function () {
  this.timeout(120_000);
  const CLUSTER_ENV = {
    NODE_ENV: 'production', DATABASE_URL: 'postgresql://portal@db.invalid:5432/portal', KAFKA_BROKERS: 'kafka.invalid:9092',
    AUTH_JWKS_URL: 'https://login.medlab.example/jwks', AUTH_ISSUER: 'https://login.medlab.example', AUTH_AUDIENCE: 'patient-portal', LOG_LEVEL: 'silent',
  };
  /** The OpenTelemetry packages a function loads when started as its image starts it (preload, then the function). */
  const otelLoaded = (env: Record<string, string>) => {
    const probe = `
      require(${JSON.stringify(path.join(ROOT, 'functions/shared/telemetry-preload.ts'))});
      require(${JSON.stringify(path.join(ROOT, 'functions/booking-queue/book-slot/index.ts'))});
      const found = new Set(Object.keys(require.cache).map((m) => /node_modules[\\\\/](@opentelemetry[\\\\/][^\\\\/]+)/.exec(m)?.[1]).filter(Boolean));
      process.stdout.write(JSON.stringify([...found].map((p) => p.replace(/\\\\/g, '/')).sort()));`;
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', probe], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...CLUSTER_ENV, ...env }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as string[];
  };

  it('without OTEL_* settings a function loads only @opentelemetry/api (no SDK, no instrumentation)', () => {
    assert.deepEqual(otelLoaded({}), ['@opentelemetry/api']);
    assert.deepEqual(otelLoaded({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }), ['@opentelemetry/api']);
  });

  it('with an OTLP endpoint it loads the SDK, the OTLP exporter and the http, pg and kafkajs instrumentations', () => {
    const loaded = otelLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/' });
    for (const p of ['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-kafkajs']) {
      assert.ok(loaded.includes(p), `${p} among ${loaded.join(', ')}`);
    }
  });
});
