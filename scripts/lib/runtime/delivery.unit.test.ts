import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent } from 'cloudevents';
import { deliver, backoffMs } from './delivery';
import { KAFKA_DELIVERY_DEFAULTS, type Delivery } from '../manifests';

interface Hit { headers: http.IncomingHttpHeaders; body: string }

/** A sink that answers the given statuses in turn (the last one repeats). */
async function sink(statuses: number[], body = '{"title":"nope"}', extraHeaders: Record<string, string> = {}) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: data });
      const status = statuses[Math.min(hits.length - 1, statuses.length - 1)];
      res.writeHead(status, { 'content-type': 'application/json', ...extraHeaders }).end(status >= 300 ? body : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const event = () => new CloudEvent({ id: 'e-1', source: '/test', type: 'com.medlab.booking.requested', data: { a: 1 } });
const spec = (d: Partial<Delivery>): Delivery => ({ ...KAFKA_DELIVERY_DEFAULTS, ...d });

describe('KafkaSource delivery (Knative Kafka data plane semantics)', () => {
  it('retries 5xx as many times as delivery.retry says, waiting exponentially, then dead-letters with knativeerror*', async () => {
    const target = await sink([500]);
    const dls = await sink([200]);
    const waits: number[] = [];
    const r = await deliver(event(), target.url, spec({ retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 100 }), dls.url, { sleep: async (ms) => { waits.push(ms); } });
    assert.equal(r.outcome, 'dead-lettered');
    assert.equal(target.hits.length, 4, 'first try + 3 retries');
    assert.deepEqual(waits, [200, 400, 800]);
    const h = dls.hits[0].headers;
    assert.equal(h['ce-id'], 'e-1');
    assert.equal(h['ce-knativeerrordest'], target.url);
    assert.equal(h['ce-knativeerrorcode'], '500');
    assert.equal(Buffer.from(String(h['ce-knativeerrordata']), 'base64').toString(), '{"title":"nope"}');
    await target.close(); await dls.close();
  });

  it('linear backoff waits delay × n', async () => {
    const target = await sink([503, 503, 200]);
    const waits: number[] = [];
    const r = await deliver(event(), target.url, spec({ retry: 5, backoffPolicy: 'linear', backoffDelayMs: 50 }), undefined, { sleep: async (ms) => { waits.push(ms); } });
    assert.equal(r.outcome, 'delivered');
    assert.deepEqual(waits, [50, 100]);
    await target.close();
  });

  it('a 400 is final: no retry, straight to the dead-letter sink', async () => {
    const target = await sink([400]);
    const dls = await sink([201]);
    const r = await deliver(event(), target.url, spec({ retry: 10 }), dls.url, { sleep: async () => undefined });
    assert.equal(r.outcome, 'dead-lettered');
    assert.equal(target.hits.length, 1);
    await target.close(); await dls.close();
  });

  for (const status of [404, 408, 409, 429]) {
    it(`${status} is retried`, async () => {
      const target = await sink([status, 200]);
      const r = await deliver(event(), target.url, spec({ retry: 2 }), undefined, { sleep: async () => undefined });
      assert.equal(r.outcome, 'delivered');
      assert.equal(target.hits.length, 2);
      await target.close();
    });
  }

  it('connection failures are retried; with no dead-letter sink the event is dropped after the retries', async () => {
    const gone = await sink([200]);
    await gone.close();
    const r = await deliver(event(), gone.url, spec({ retry: 2 }), undefined, { sleep: async () => undefined });
    assert.equal(r.outcome, 'dropped');
    assert.equal(r.attempts, 3);
  });

  it('defaults when a KafkaSource has no delivery: 10 retries, exponential, PT0.3S, PT600S', () => {
    assert.deepEqual(KAFKA_DELIVERY_DEFAULTS, { retry: 10, backoffPolicy: 'exponential', backoffDelayMs: 300, timeoutMs: 600_000 });
    assert.equal(backoffMs(KAFKA_DELIVERY_DEFAULTS, 1), 600);
  });

  it('a dead-letter sink that refuses is tried under the same spec, then the event is lost (not retried forever)', async () => {
    const target = await sink([500]);
    const dls = await sink([503]);
    const waits: number[] = [];
    const r = await deliver(event(), target.url, spec({ retry: 2, backoffPolicy: 'linear', backoffDelayMs: 10 }), dls.url, { sleep: async (ms) => { waits.push(ms); } });
    assert.equal(r.outcome, 'lost');
    assert.equal(target.hits.length, 3);
    assert.equal(dls.hits.length, 3, 'first try + 2 retries at the dead-letter sink');
    assert.deepEqual(waits, [10, 20, 10, 20]);
    assert.deepEqual([r.deadLetterAttempts, r.deadLetterCode], [3, 503]);
    await target.close(); await dls.close();
  });

  it('a dead-letter sink answering 400 is not retried: the event is lost at once', async () => {
    const target = await sink([422]);
    const dls = await sink([400]);
    const r = await deliver(event(), target.url, spec({ retry: 5 }), dls.url, { sleep: async () => undefined });
    assert.equal(r.outcome, 'lost');
    assert.equal(dls.hits.length, 1);
    await target.close(); await dls.close();
  });

  it('a dead-letter sink that recovers within the retries takes the event', async () => {
    const target = await sink([400]);
    const dls = await sink([503, 202]);
    const r = await deliver(event(), target.url, spec({ retry: 3 }), dls.url, { sleep: async () => undefined });
    assert.deepEqual([r.outcome, r.deadLetterAttempts, r.deadLetterCode], ['dead-lettered', 2, 202]);
    await target.close(); await dls.close();
  });

  it('kne- response headers of the failed sink become extensions of the dead letter', async () => {
    const target = await sink([400], '{}', { 'kne-reason': 'slot-closed' });
    const dls = await sink([200]);
    await deliver(event(), target.url, spec({ retry: 0 }), dls.url);
    assert.equal(dls.hits[0].headers['ce-reason'], 'slot-closed');
    await target.close(); await dls.close();
  });

  it('a stop during the backoff interrupts the delivery: not dead-lettered, not dropped', async () => {
    const target = await sink([503]);
    const dls = await sink([200]);
    const stop = new AbortController();
    const r = await deliver(event(), target.url, spec({ retry: 10, backoffDelayMs: 60_000 }), dls.url, {
      signal: stop.signal,
      onAttempt: () => stop.abort(),
    });
    assert.equal(r.outcome, 'interrupted');
    assert.equal(target.hits.length, 1);
    assert.equal(dls.hits.length, 0);
    await target.close(); await dls.close();
  });

  it('a stop seen after a final answer interrupts too: the dead-letter sink is not used', async () => {
    const target = await sink([400]);
    const dls = await sink([200]);
    const r = await deliver(event(), target.url, spec({ retry: 3 }), dls.url, { stopped: () => true });
    assert.equal(r.outcome, 'interrupted');
    assert.equal(dls.hits.length, 0);
    await target.close(); await dls.close();
  });

  it('knativeerrordata carries at most 1024 bytes of the response', async () => {
    const target = await sink([422], 'x'.repeat(5000));
    const dls = await sink([200]);
    await deliver(event(), target.url, spec({ retry: 0 }), dls.url, { sleep: async () => undefined });
    assert.equal(Buffer.from(String(dls.hits[0].headers['ce-knativeerrordata']), 'base64').length, 1024);
    await target.close(); await dls.close();
  });
});
