// Fault: a poison event, one that fails every time it is delivered. Through Kafka (a fresh mock broker, a
// KafkaSource-equivalent consumer group per source read from a manifest): the event is retried exactly as
// the source's delivery spec says, then lands at the real dead-letter-intake with knativeerrorcode,
// knativeerrordest and knativeerrordata, and the source keeps going: the next record on the same partition
// is delivered.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { loadManifests, type KafkaSourceManifest } from '../../scripts/lib/manifests';
import { KafkaDispatcher } from '../../scripts/lib/runtime/dispatcher';
import { startKafkaMock, type KafkaMock } from '../../scripts/lib/services';
import { db } from '../../functions/shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, type RunningFunction, eventually } from '../support/fixtures';

interface Seen {
  at: string;
  id: string;
  type: string;
  status: number;
  headers: IncomingHttpHeaders;
  answer: string;
}

/** An HTTP endpoint on loopback that writes every CloudEvent it gets into one shared journal, in arrival order. */
async function journalServer(name: string, journal: Seen[], answer: (headers: IncomingHttpHeaders, body: Buffer) => Promise<{ status: number; headers: Record<string, string>; body: string }>) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let reply: { status: number; headers: Record<string, string>; body: string };
      try {
        reply = await answer(req.headers, body);
      } catch (err) {
        reply = { status: 502, headers: { 'content-type': 'text/plain' }, body: String(err) };
      }
      journal.push({ at: name, id: String(req.headers['ce-id']), type: String(req.headers['ce-type']), status: reply.status, headers: req.headers, answer: reply.body });
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Forwards a request to a real function and passes its answer back unchanged. */
const forwardTo = (target: string) => async (headers: IncomingHttpHeaders, body: Buffer) => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !['host', 'connection', 'content-length'].includes(k)) out[k] = String(v);
  const res = await fetch(target, { method: 'POST', headers: out, body: new Uint8Array(body), signal: AbortSignal.timeout(20_000) });
  return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' }, body: await res.text() };
};

function cloudEventRecord(key: string, id: string, type: string, data: unknown) {
  return {
    key,
    value: JSON.stringify(data),
    headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/test/faults', ce_type: type, 'content-type': 'application/json' },
  };
}

describe('fault: a poison event on a Kafka topic', function () {
  this.timeout(110_000);
  let kafka: KafkaMock;
  let producer: Producer;
  let intake: RunningFunction;
  let consumerFn: RunningFunction;
  let manifestDir: string;
  const servers: Array<{ close(): Promise<void> }> = [];
  const dispatchers: KafkaDispatcher[] = [];
  const journal: Seen[] = [];
  const group = `faults-${randomUUID().slice(0, 8)}`;
  const poisonIds = new Set<string>();
  let sink: { url: string };
  let deadLetters: { url: string };
  let consumerProxy: { url: string };
  let sources: KafkaSourceManifest[];

  before(async () => {
    await resetDatabase();
    await seedCatalogue();
    kafka = await startKafkaMock();
    producer = new Kafka({ clientId: 'faults-poison', brokers: kafka.brokers.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();

    intake = await startFunction(require('../../functions/dead-letter/intake/index.ts'));
    consumerFn = await startFunction(require('../../functions/booking-queue/booking-consumer/index.ts'));
    // A sink that answers 500 to the poison event every time, and 200 to anything else.
    sink = await journalServer('sink', journal, async (headers) => {
      if (poisonIds.has(String(headers['ce-id']))) {
        return {
          status: 500,
          headers: { 'content-type': 'application/problem+json' },
          body: JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the sink fails on this event every time' }),
        };
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' };
    });
    deadLetters = await journalServer('dead-letter', journal, forwardTo(intake.url));
    consumerProxy = await journalServer('consumer', journal, forwardTo(consumerFn.url));
    servers.push(sink as never, deadLetters as never, consumerProxy as never);

    // The test sources as an operator writes them; loadManifests turns PT0.01S into 10 ms.
    manifestDir = mkdtempSync(path.join(os.tmpdir(), 'faults-poison-'));
    const source = (name: string, topic: string, sinkUrl: string, delivery: string) => `---
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata:
  name: ${name}
  namespace: patient-portal
spec:
  bootstrapServers: [${JSON.stringify(kafka.brokers)}]
  topics: [${topic}]
  consumerGroup: ${group}-${name}
  initialOffset: earliest
  ordering: ordered
  consumers: 1
  delivery:
${delivery}
    deadLetterSink:
      uri: ${deadLetters.url}
  sink:
    uri: ${sinkUrl}
`;
    writeFileSync(path.join(manifestDir, 'sources.yaml'),
      source('failing-sink-source', `${group}-a`, sink.url, '    retry: 3\n    backoffPolicy: linear\n    backoffDelay: PT0.01S\n    timeout: PT10S') +
      source('consumer-source', `${group}-b`, consumerProxy.url, '    retry: 4\n    backoffPolicy: exponential\n    backoffDelay: PT0.01S\n    timeout: PT10S'));
    sources = loadManifests(manifestDir).kafkaSources;
    assert.equal(sources.length, 2);
    assert.deepEqual(sources[0].delivery, { retry: 3, backoffPolicy: 'linear', backoffDelayMs: 10, timeoutMs: 10_000, deadLetterSink: { uri: deadLetters.url } });
  });

  after(async () => {
    for (const d of dispatchers) await d.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    for (const s of servers) await s.close().catch(() => undefined);
    await intake?.close();
    await consumerFn?.close();
    await kafka?.stop();
    if (manifestDir) rmSync(manifestDir, { recursive: true, force: true });
  });

  const startSource = async (source: KafkaSourceManifest) => {
    const d = new KafkaDispatcher({ source, sinkUrl: source.sink.uri!, deadLetterUrl: source.delivery.deadLetterSink!.uri }, kafka.brokers.split(','));
    dispatchers.push(d);
    await d.setReplicas(source.consumers);
    return d;
  };

  /** Produces records of one key in one batch and checks they went to one partition, in this order. */
  const produce = async (topic: string, records: ReturnType<typeof cloudEventRecord>[]) => {
    const meta = await producer.send({ topic, messages: records });
    assert.equal(new Set(meta.map((m) => m.partition)).size, 1, `one key, one partition: ${JSON.stringify(meta)}`);
  };

  it('a sink that always answers 500: 1 + retry attempts, then the dead-letter sink with the reason, then the next record', async () => {
    const source = sources.find((s) => s.name === 'failing-sink-source')!;
    const poison = randomUUID();
    const next = randomUUID();
    poisonIds.add(poison);
    const data = (n: number) => ({ requestId: `r-${n}`, patientId: 'p-poison', slotId: randomUUID() });
    await produce(source.topics[0], [
      cloudEventRecord('p-poison', poison, 'com.medlab.booking.requested', data(1)),
      cloudEventRecord('p-poison', next, 'com.medlab.booking.requested', data(2)),
    ]);
    const dispatcher = await startSource(source);

    await eventually(() => journal.some((s) => s.at === 'sink' && s.id === next), 'the record after the poison event to be delivered', 60_000);
    const mine = journal.filter((s) => s.id === poison || s.id === next).map((s) => `${s.at}:${s.id === poison ? 'poison' : 'next'}:${s.status}`);
    // Exactly 1 + retry attempts, the dead letter, and only then the next record of the partition.
    assert.deepEqual(mine, [
      ...Array.from({ length: 1 + source.delivery.retry }, () => 'sink:poison:500'),
      'dead-letter:poison:201',
      'sink:next:200',
    ]);

    const letter = journal.find((s) => s.at === 'dead-letter' && s.id === poison)!;
    assert.equal(letter.headers['ce-knativeerrorcode'], '500');
    assert.equal(letter.headers['ce-knativeerrordest'], sink.url);
    const failedAnswer = journal.find((s) => s.at === 'sink' && s.id === poison)!.answer;
    assert.equal(Buffer.from(String(letter.headers['ce-knativeerrordata']), 'base64').toString('utf8'), failedAnswer);

    const row = await db().deadLetter.findFirstOrThrow({ where: { eventId: poison } });
    assert.equal(row.errorCode, 500);
    assert.equal(row.errorDest, sink.url);
    assert.equal(row.eventType, 'com.medlab.booking.requested');
    assert.equal(row.topic, 'booking-requests', 'the catalogue topic of the event type, for republishing');
    assert.equal(Buffer.from(row.errorData!, 'base64').toString('utf8'), failedAnswer);
    assert.equal(row.reason, 'Internal Server Error: the sink fails on this event every time');
    assert.equal(await db().deadLetter.count(), 1);
    await eventually(() => dispatcher.counts.delivered === 1 && dispatcher.counts['dead-lettered'] === 1, 'the source to count its outcomes', 10_000);
  });

  it('events the real booking consumer refuses every time: not retried (4xx), dead-lettered with the reason, and the next request is booked', async () => {
    const source = sources.find((s) => s.name === 'consumer-source')!;
    const slot = await createSlot({ capacity: 2 });
    const badData = randomUUID();
    const noBooking = randomUUID();
    const next = randomUUID();
    const requestId = randomUUID();
    await produce(source.topics[0], [
      // Data that fails the catalogue schema: 400, can never succeed.
      cloudEventRecord('p-poison-b', badData, 'com.medlab.booking.requested', { requestId: 'r-bad', patientId: 'p-poison-b', slotId: 'not-a-uuid' }),
      // A cancel request for a booking that does not exist: 404 inside, answered 422 so it is not retried.
      cloudEventRecord('p-poison-b', noBooking, 'com.medlab.booking.cancel-requested', { bookingId: randomUUID(), patientId: 'p-poison-b' }),
      cloudEventRecord('p-poison-b', next, 'com.medlab.booking.requested', { requestId, patientId: 'p-poison-b', slotId: slot.id }),
    ]);
    const dispatcher = await startSource(source);

    await eventually(() => journal.some((s) => s.at === 'consumer' && s.id === next), 'the valid request after the poison events', 60_000);
    const label = (id: string) => (id === badData ? 'bad-data' : id === noBooking ? 'no-booking' : 'next');
    const mine = journal.filter((s) => ([badData, noBooking, next] as string[]).includes(s.id)).map((s) => `${s.at}:${label(s.id)}:${s.status}`);
    assert.deepEqual(mine, [
      'consumer:bad-data:400', 'dead-letter:bad-data:201',
      'consumer:no-booking:422', 'dead-letter:no-booking:201',
      'consumer:next:200',
    ]);

    const bad = await db().deadLetter.findFirstOrThrow({ where: { eventId: badData } });
    assert.equal(bad.errorCode, 400);
    assert.equal(bad.errorDest, consumerProxy.url);
    assert.match(bad.reason ?? '', /Invalid Event Data: .*data\/slotId/);
    const missing = await db().deadLetter.findFirstOrThrow({ where: { eventId: noBooking } });
    assert.equal(missing.errorCode, 422);
    assert.match(missing.reason ?? '', /^Unprocessable Event: no such booking/);
    assert.equal(missing.eventType, 'com.medlab.booking.cancel-requested');

    // The consumer went on: the valid request booked its place, once.
    const bookings = await db().booking.findMany({ where: { slotId: slot.id } });
    assert.equal(bookings.length, 1);
    assert.equal(bookings[0].idempotencyKey, `request:${requestId}`);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    // The refused events left no inbox row: nothing was recorded as handled.
    assert.equal(await db().bookingQueueInboxEvent.count({ where: { id: { in: [badData, noBooking] } } }), 0);
    await eventually(() => dispatcher.counts.delivered === 1 && dispatcher.counts['dead-lettered'] === 2, 'the source to count its outcomes', 10_000);
  });
});
