// Hostile input at the HTTP layer, in every function of the bundle and in the npm start gateway: over-deep
// JSON, bodies and headers over the limits, foreign origins, functions and topics that only the cluster (on a
// laptop: this machine) may reach. Each answer is problem+json the client can read, never a 500 or a reset.
import { strict as assert } from 'node:assert';
import http, { type IncomingHttpHeaders } from 'node:http';
import { networkInterfaces } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Bundle, GATEWAY_BODY_LIMIT, VISIBILITY_LABEL } from '../scripts/lib/runtime/bundle';
import type { HostedFunction } from '../scripts/lib/runtime/host';
import { MemoryDispatcher } from '../scripts/lib/runtime/dispatcher';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { kafkaClient } from '../functions/shared/kafka';
import { db } from '../functions/shared/db';
import { MAX_JSON_DEPTH, allowedOrigins } from '../functions/shared/http-config';
import { jsonDepth, jsonTextDepth } from '../functions/shared/runtime-hooks';
import { resetDatabase, seedCatalogue, createSlot, eventually, patientToken, quietJsonParseErrors } from './support/fixtures';

interface Outcome { status?: number; headers: IncomingHttpHeaders; text: string; body?: any; requestError?: string }

/**
 * One request on its own connection with http.request, the body written in 64 KiB chunks (declared with
 * Content-Length, or chunked). Any error while sending counts: the client must be able to read the answer.
 */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    let requestError: string | undefined;
    let answer: Omit<Outcome, 'requestError'> | undefined;
    // Settled when the connection is gone: a reset that follows the answer still reaches the client first.
    const settle = () => { if (answer) resolve({ ...answer, requestError }); };
    const req = http.request(url, {
      method: init.method ?? (body ? 'POST' : 'GET'), agent: false, signal: AbortSignal.timeout(60_000),
      headers: { ...init.headers, ...(body && !init.chunked ? { 'content-length': String(body.length) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        answer = { status: res.statusCode, headers: res.headers, text, body: parsed };
      });
      res.on('error', (err) => reject(new Error(`${url}: the answer broke off: ${err.message}`)));
    });
    req.on('error', (err) => {
      requestError = err.message;
    });
    req.on('close', () => (answer ? settle() : reject(new Error(`${url}: no answer; the request failed with ${requestError ?? 'a closed connection'}`))));
    if (body) for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
    req.end();
  });
}

function assertProblem(r: Outcome, status: number, what: string): void {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/, `${what}: answered ${r.headers['content-type']}`);
  assert.equal(r.body?.status, status, `${what}: problem body ${r.text.slice(0, 300)}`);
  assert.equal(r.requestError, undefined, `${what}: the client could not finish sending (${r.requestError})`);
}

const deepJson = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const PORTAL = 'http://localhost:8080';
const FOREIGN = 'https://evil.example';

/** An address of this machine that is not loopback: a request from it stands for one from the network. */
function networkAddress(): string {
  const found = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  assert.ok(found, 'this machine has a non-loopback IPv4 address (the test reaches the gateway through it)');
  return found.address;
}

describe('hostile input answers problem+json, in every function and at the gateway', function () {
  this.timeout(120_000);
  const previous = { brokers: process.env.KAFKA_BROKERS, port: process.env.PORT, origins: process.env.PORTAL_ORIGINS };
  let bundle: Bundle;
  let base = '';
  let restoreConsole = () => undefined as void;

  before(async () => {
    restoreConsole = quietJsonParseErrors();
    delete process.env.KAFKA_BROKERS;
    delete process.env.PORT;
    delete process.env.PORTAL_ORIGINS;
    await resetDatabase();
    await seedCatalogue();
    // On every interface, as npm start listens, so a request can also come from the network address.
    bundle = await new Bundle({ port: 0, host: '0.0.0.0', schedules: false }).start();
    base = `http://127.0.0.1:${new URL(bundle.url).port}`;
  });

  after(async () => {
    restoreConsole();
    await bundle?.stop();
    for (const [name, value] of [['KAFKA_BROKERS', previous.brokers], ['PORT', previous.port], ['PORTAL_ORIGINS', previous.origins]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const routes = () => bundle.functions.filter((f) => f.kind === 'route');
  const eventFunctions = () => bundle.functions.filter((f) => f.kind !== 'route');

  describe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, () => {
    it('the depth is counted without recursion, on values and on text', () => {
      assert.equal(jsonDepth(JSON.parse(deepJson(100_000))), MAX_JSON_DEPTH + 1, 'stops counting past the limit');
      assert.equal(jsonDepth({ a: [{ b: 1 }], c: 'x' }), 3);
      assert.equal(jsonTextDepth(deepJson(100_000)), MAX_JSON_DEPTH + 1);
      assert.equal(jsonTextDepth('{"a":"[[[[{{{{\\"","b":[1]}'), 2, 'brackets inside strings do not count');
    });

    it('every POST route refuses 5,000 levels (10 KB) with 400 naming the body, through the gateway and at its own URL', async () => {
      const posts = bundle.manifests.routes.filter((r) => (r.method ?? bundle.fn(r.service).route?.method) === 'POST');
      assert.ok(posts.length >= 8, `POST routes: ${posts.length}`);
      for (const r of posts) {
        for (const url of [base + r.path, bundle.fn(r.service).url + '/']) {
          const res = await send(url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${patientToken()}` }, body: `{"slotId":${deepJson(5000)}}` });
          assertProblem(res, 400, `POST ${url}`);
          assert.deepEqual(res.body['invalid-params'], [{ name: 'body', reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }], url);
        }
      }
    });

    it(`${MAX_JSON_DEPTH} levels pass on to the route (which judges the schema); ${MAX_JSON_DEPTH + 1} do not`, async () => {
      const url = `${base}/api/bookings`;
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${patientToken()}` };
      const atLimit = await send(url, { headers, body: `{"slotId":${deepJson(MAX_JSON_DEPTH - 1)}}` });
      assertProblem(atLimit, 400, 'at the limit');
      assert.ok(atLimit.body['invalid-params'].some((p: { name: string }) => p.name === 'body/slotId'), atLimit.text);
      const over = await send(url, { headers, body: `{"slotId":${deepJson(MAX_JSON_DEPTH)}}` });
      assertProblem(over, 400, 'one past the limit');
      assert.equal(over.body.title, 'JSON Too Deeply Nested');
    });

    it('consumers, jobs and the dead-letter intake refuse it as a binary and as a structured CloudEvent', async () => {
      assert.ok(eventFunctions().some((f) => f.kind === 'consumer') && eventFunctions().some((f) => f.name === 'dead-letter-intake'));
      for (const f of eventFunctions()) {
        const binary = await send(f.url + '/', {
          headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/hostile', 'ce-type': 'com.medlab.booking.requested' },
          body: `{"requestId":${deepJson(5000)}}`,
        });
        assertProblem(binary, 400, `${f.name} (binary)`);
        const structured = await send(f.url + '/', {
          headers: { 'content-type': 'application/cloudevents+json' },
          body: `{"specversion":"1.0","id":"${randomUUID()}","source":"/hostile","type":"com.medlab.booking.requested","data":${deepJson(5000)}}`,
        });
        assertProblem(structured, 400, `${f.name} (structured)`);
        assert.equal(structured.body['invalid-params'][0].name, 'body');
      }
      assert.equal(await db().deadLetter.count(), 0, 'nothing reached the dead-letter table');
    });
  });

  describe('a 5 MB body is answered 413 problem+json that the client reads', () => {
    const fiveMb = () => JSON.stringify({ slotId: randomUUID(), padding: 'x'.repeat(5 * 1024 * 1024) });
    for (const chunked of [false, true]) {
      it(`through the gateway and at a function's own URL (${chunked ? 'chunked' : 'Content-Length'}, http.request)`, async () => {
        for (const url of [`${base}/api/bookings`, bundle.fn('book-slot').url + '/', bundle.fn('booking-consumer').url + '/']) {
          const res = await send(url, { headers: { 'content-type': 'application/json' }, body: fiveMb(), chunked });
          assertProblem(res, 413, url);
        }
      });
    }

    it('fetch reads it too, and the gateway says its limit', async () => {
      const res = await fetch(`${base}/api/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fiveMb() });
      assert.equal(res.status, 413);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match((await res.json()).detail, new RegExp(String(GATEWAY_BODY_LIMIT)));
    });
  });

  it('an oversize header (1 MiB) is 431 problem+json the client reads, at the gateway and in a function', async () => {
    for (const url of [`${base}/api/queue/board?branchId=hcm-d1`, bundle.fn('queue-board').url + '/', bundle.fn('booking-consumer').url + '/']) {
      const res = await send(url, { headers: { 'x-padding': 'x'.repeat(1024 * 1024) } });
      assertProblem(res, 431, url);
    }
  });

  describe('CORS', () => {
    it('an allowed origin is echoed with Vary: Origin; the methods are the route method and OPTIONS, in preflight and answer alike', async () => {
      for (const f of routes()) {
        const path = bundle.manifests.routes.find((r) => r.service === f.name)!.path;
        const method = f.route!.method;
        const preflight = await send(base + path, { method: 'OPTIONS', headers: { origin: PORTAL, 'access-control-request-method': method } });
        assert.equal(preflight.status, 204, `${f.name} preflight: ${preflight.text}`);
        const real = await send(base + path, { method, headers: { origin: PORTAL, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
        for (const [what, r] of [['preflight', preflight], ['answer', real]] as const) {
          assert.equal(r.headers['access-control-allow-origin'], PORTAL, `${f.name} ${what}`);
          assert.match(String(r.headers.vary), /\bOrigin\b/, `${f.name} ${what}`);
          assert.equal(r.headers['access-control-allow-methods'], `${method}, OPTIONS`, `${f.name} ${what}`);
        }
      }
    });

    it('any other origin, or none, gets no Access-Control-Allow-Origin at all (never "null")', async () => {
      for (const headers of [{ origin: FOREIGN }, {}] as Array<Record<string, string>>) {
        const board = await send(`${base}/api/queue/board?branchId=hcm-d1`, { headers });
        assert.equal(board.status, 'origin' in headers ? 403 : 200, board.text);
        assert.equal(board.headers['access-control-allow-origin'], undefined, JSON.stringify(board.headers));
        assert.match(String(board.headers.vary), /\bOrigin\b/);
        assert.equal(board.headers['access-control-allow-methods'], 'GET, OPTIONS');
      }
      const preflight = await send(`${base}/api/bookings`, { method: 'OPTIONS', headers: { origin: FOREIGN } });
      assertProblem(preflight, 403, 'foreign preflight');
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    });

    it('the default origins follow PORT: PORT=9090 allows http://localhost:9090', async () => {
      process.env.PORT = '9090';
      try {
        assert.deepEqual(allowedOrigins(), ['http://localhost:9090', 'http://localhost:3000']);
        const ok = await send(`${base}/api/bookings`, { method: 'OPTIONS', headers: { origin: 'http://localhost:9090' } });
        assert.equal(ok.status, 204);
        assert.equal(ok.headers['access-control-allow-origin'], 'http://localhost:9090');
        const stale = await send(`${base}/api/bookings`, { method: 'OPTIONS', headers: { origin: PORTAL } });
        assert.equal(stale.status, 403, 'nothing serves :8080 then');
      } finally {
        delete process.env.PORT;
      }
    });
  });

  describe('cluster-local functions and the hosted functions are not on the network', () => {
    const other = () => `http://${networkAddress()}:${new URL(bundle.url).port}`;
    const markClusterLocal = (f: HostedFunction) => {
      // knative/ labels consumers, jobs and sinks so; set here too, so this test does not depend on that file.
      f.service.doc.metadata.labels = { ...f.service.doc.metadata.labels, [VISIBILITY_LABEL]: 'cluster-local' };
    };

    it('a cluster-local function is served on /functions/<name> to this machine only; others get 404 problem+json', async () => {
      const consumer = bundle.fn('booking-consumer');
      markClusterLocal(consumer);
      const local = await send(`${base}/functions/booking-consumer/health/readiness`);
      assert.equal(local.status, 200, local.text);
      const remote = await send(`${other()}/functions/booking-consumer/health/readiness`);
      assertProblem(remote, 404, 'cluster-local from the network');
      // A refusal of the gateway's own reads the body first too: the client reads the 404, not a reset.
      const posted = await send(`${other()}/functions/booking-consumer`, { headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(5 * 1024 * 1024)}"` });
      assertProblem(posted, 404, 'cluster-local 5 MB POST from the network');
      const publicFn = await send(`${other()}/functions/queue-board/health/readiness`);
      assert.equal(publicFn.status, 200, 'a public function is still served to the network');
      const listed = bundle.listing().find((f) => f.name === 'booking-consumer');
      assert.equal(listed?.visibility, 'cluster-local');
    });

    it('hosted functions listen on loopback only', async () => {
      const port = new URL(bundle.fn('book-slot').url).port;
      await assert.rejects(send(`http://${networkAddress()}:${port}/health/readiness`), /ECONNREFUSED/);
      assert.equal((await send(`http://127.0.0.1:${port}/health/readiness`)).status, 200);
    });
  });

  describe('POST /topics/<topic>: a record on a topic, from this machine', () => {
    it('a structured com.medlab.booking.requested on booking-requests answers 202 and is delivered to booking-consumer', async () => {
      const slot = await createSlot({ capacity: 2 });
      const requestId = `walkthrough-${randomUUID()}`;
      const res = await send(`${base}/topics/booking-requests`, {
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ specversion: '1.0', id: requestId, source: '/walkthrough', type: 'com.medlab.booking.requested', data: { requestId, patientId: 'patient-42', slotId: slot.id } }),
      });
      assert.equal(res.status, 202, res.text);
      assert.equal(res.body.topic, 'booking-requests');
      assert.equal(res.body.key, 'patient-42', 'the catalogue key of the event');
      const stored = memoryBus.log('booking-requests')[res.body.partition][res.body.offset];
      assert.equal(stored.headers.ce_type, 'com.medlab.booking.requested');
      assert.equal(stored.headers.ce_id, requestId);
      // KEDA's rule scales the group up from zero at its next poll; run that poll now.
      await bundle.pollScalers();
      const booking = await eventually(() => db().booking.findFirst({ where: { patientId: 'patient-42', idempotencyKey: `request:${requestId}` } }), 'the booking made by booking-consumer');
      assert.equal(booking.slotId, slot.id);
      const dispatcher = bundle.dispatchers.find((d) => d.source.topics.includes('booking-requests')) as MemoryDispatcher;
      await eventually(() => dispatcher.counts.delivered >= 1, 'the delivery counted by the KafkaSource');
    });

    it('binary ce-* headers and a plain JSON value with ?key= are taken too', async () => {
      const binary = await send(`${base}/topics/booking-requests?key=patient-7`, {
        headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/walkthrough', 'ce-type': 'com.medlab.booking.cancel-requested' },
        body: JSON.stringify({ bookingId: randomUUID(), patientId: 'patient-7' }),
      });
      assert.equal(binary.status, 202, binary.text);
      assert.equal(binary.body.key, 'patient-7');
      assert.equal(memoryBus.log('booking-requests')[binary.body.partition][binary.body.offset].headers.ce_type, 'com.medlab.booking.cancel-requested');
      const plain = await send(`${base}/topics/queue-events?key=q-1`, { headers: { 'content-type': 'application/json' }, body: '{"hello":"queue"}' });
      assert.equal(plain.status, 202, plain.text);
      const record = memoryBus.log('queue-events')[plain.body.partition][plain.body.offset];
      assert.deepEqual([record.key, record.value], ['q-1', '{"hello":"queue"}']);
    });

    it('refuses what it cannot put: unknown topic, broken event, deep JSON, other methods, and anyone off this machine', async () => {
      const event = (e: object) => ({ headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(e) });
      const unknown = await send(`${base}/topics/no-such-topic`, event({ specversion: '1.0', id: '1', source: '/t', type: 't' }));
      assertProblem(unknown, 404, 'unknown topic');
      assert.equal(unknown.body['invalid-params'][0].name, 'path/topic');
      assertProblem(await send(`${base}/topics/booking-requests`, event({ specversion: '1.0', id: '1', source: '/t' })), 400, 'no type');
      assertProblem(await send(`${base}/topics/booking-requests`, { headers: { 'content-type': 'application/cloudevents+json' }, body: '{"specversion":' }), 400, 'malformed');
      assertProblem(await send(`${base}/topics/booking-requests`, { headers: { 'content-type': 'application/json' }, body: deepJson(5000) }), 400, 'deep');
      assertProblem(await send(`${base}/topics/booking-requests`, { headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, 'text');
      // Text goes only where no CloudEvent contract is declared: an HL7 message on the LIS's topic.
      assert.equal((await send(`${base}/topics/lis-sample-status`, { headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: 'MSH|^~\\&|LIS' })).status, 202);
      assertProblem(await send(`${base}/topics/booking-requests`, { headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5 * 1024 * 1024) }), 413, '5 MB');
      assertProblem(await send(`${base}/topics/booking-requests`), 405, 'GET');
      const before = memoryBus.records('booking-requests').length;
      const remote = await send(`http://${networkAddress()}:${new URL(bundle.url).port}/topics/booking-requests`, event({ specversion: '1.0', id: '1', source: '/t', type: 'com.medlab.booking.requested', data: {} }));
      assertProblem(remote, 404, 'from the network');
      assert.equal(memoryBus.records('booking-requests').length, before, 'nothing was put');
    });

    it('with KAFKA_BROKERS the record is produced to Kafka, where the answer says', async () => {
      const brokers = process.env.TEST_KAFKA_BROKERS?.split(',');
      assert.ok(brokers?.length, 'npm test passes TEST_KAFKA_BROKERS');
      const topic = 'queue-events';
      // The gateway produces where the bundle's dispatchers read; this bundle started on the in-process bus.
      (bundle as unknown as { brokers?: string[] }).brokers = brokers;
      try {
        const value = JSON.stringify({ marker: randomUUID() });
        const res = await send(`${base}/topics/${topic}?key=q-kafka`, { headers: { 'content-type': 'application/json' }, body: value });
        assert.equal(res.status, 202, res.text);
        const consumer = kafkaClient('bad-input-test', brokers).consumer({ groupId: `bad-input-${randomUUID()}` });
        await consumer.connect();
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          let found: { partition: number; offset: string; key?: string } | undefined;
          await consumer.run({
            eachMessage: async ({ partition, message }) => {
              if (message.value?.toString() === value) found = { partition, offset: message.offset, key: message.key?.toString() };
            },
          });
          const got = await eventually(() => found, 'the record read back from Kafka');
          assert.deepEqual(got, { partition: res.body.partition, offset: String(res.body.offset), key: 'q-kafka' });
        } finally {
          await consumer.disconnect();
        }
      } finally {
        (bundle as unknown as { brokers?: string[] }).brokers = undefined;
      }
    });
  });
});
