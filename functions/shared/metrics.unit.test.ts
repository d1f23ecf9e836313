import { strict as assert } from 'node:assert';
import type { Server } from 'node:http';
import { startUnderRuntime, freePort } from '../../scripts/lib/runtime/host';
import { parseExposition, valueOf } from '../../test/support/exposition';
import { installRuntimeHooks } from './runtime-hooks';
import { RouteRequests, HTTP_BUCKETS, eventOutcome, routeRequests, kitExposition, consumerMetrics, systemGauges, awaitPublish, publishBatch } from './metrics';
import { system } from '../booking-queue/system';

describe('request metrics of a route (cells formatted at scrape time)', () => {
  it('counts per method and status, and buckets are cumulative with +Inf equal to the count', async () => {
    routeRequests('unit-cells', '/api/cells');
    const cells = routeRequests('unit-cells', '/api/cells');
    assert.ok(cells instanceof RouteRequests);
    for (const seconds of [0.0005, 0.003, 0.003, 0.2, 42]) cells.record('POST', 201, seconds);
    cells.record('POST', 409, 0.004);
    const e = parseExposition(await kitExposition('unit-cells'));
    const created = { function: 'unit-cells', route: '/api/cells', method: 'POST', status: '201' };
    assert.equal(valueOf(e, 'http_server_requests_total', created), 5);
    assert.equal(valueOf(e, 'http_server_requests_total', { ...created, status: '409' }), 1);
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_bucket', { ...created, le: '0.001' }), 1);
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_bucket', { ...created, le: '0.005' }), 3);
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_bucket', { ...created, le: '0.25' }), 4);
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_bucket', { ...created, le: String(HTTP_BUCKETS.at(-1)) }), 4, 'the 42 s request is above every bound');
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_bucket', { ...created, le: '+Inf' }), 5);
    assert.equal(valueOf(e, 'http_server_request_duration_seconds_count', created), 5);
    assert.ok(Math.abs(valueOf(e, 'http_server_request_duration_seconds_sum', created)! - 42.2065) < 1e-9);
  });
});

describe('outcome of an answer to a delivery', () => {
  const cases: Array<[{ statusCode?: number; body?: unknown }, string]> = [
    [{ statusCode: 200, body: { status: 'processed' } }, 'processed'],
    [{ statusCode: 200, body: { status: 'duplicate' } }, 'duplicate'],
    [{ statusCode: 400 }, 'invalid'],
    [{ statusCode: 422 }, 'refused'],
    [{ statusCode: 404 }, 'refused'],
    [{ statusCode: 503 }, 'unavailable'],
    [{ statusCode: 500 }, 'failed'],
  ];
  for (const [response, outcome] of cases) {
    it(`${response.statusCode} ${JSON.stringify(response.body ?? '')} is ${outcome}`, () => assert.equal(eventOutcome(response), outcome));
  }

  it('a consumer\'s series exist at 0 for every handled type and outcome, and a type it does not handle counts as unhandled', async () => {
    const m = consumerMetrics('unit-consumer', ['com.medlab.booking.requested']);
    const handle = m.counted(async (_context: unknown, event?: { type?: string }) => ({ statusCode: event?.type === 'com.medlab.booking.requested' ? 200 : 400, body: {} }));
    await handle({}, { type: 'com.example.unknown' });
    const e = parseExposition(await kitExposition('unit-consumer'));
    assert.equal(valueOf(e, 'events_consumed_total', { type: 'com.medlab.booking.requested', outcome: 'failed' }), 0);
    assert.equal(valueOf(e, 'events_consumed_total', { type: 'unhandled', outcome: 'invalid' }), 1);
    assert.equal(e.samples.filter((s) => s.name === 'events_consumed_total').length, 12, 'one type and "unhandled", six outcomes each; never the sender\'s type');
    assert.equal(valueOf(e, 'event_phase_duration_seconds_count', { phase: 'validation' }), 0);
  });

  it('a gauge name of the kit or the runtime is refused', () => {
    assert.throws(() => systemGauges(system, { outbox_backlog: { help: 'x', labels: [], read: async () => [] } }), /outside the kit's/);
    assert.throws(() => systemGauges(system, { 'Patients-Waiting': { help: 'x', labels: [], read: async () => [] } }), /lower-case metric name/);
  });
});

describe('publish phase: from a commit to the drain that sent its events', () => {
  it('each commit is observed once for the function that made it, and a drain that found the lock taken hands them on', async () => {
    const phase = async () => valueOf(parseExposition(await kitExposition('unit-committer')), 'event_phase_duration_seconds_count', { phase: 'publish' });
    awaitPublish(system, '/booking-queue/unit-committer');
    awaitPublish(system, '/booking-queue/unit-committer');
    const first = publishBatch(system);
    assert.equal(first.by, 'unit-committer');
    assert.equal(publishBatch(system).by, undefined, 'a commit belongs to one drain');
    first.published();
    assert.equal(await phase(), 2);
    awaitPublish(system, '/booking-queue/unit-committer');
    publishBatch(system).retry();
    const next = publishBatch(system);
    assert.equal(next.by, 'unit-committer');
    next.published();
    assert.equal(await phase(), 3);
  });
});

describe('one /metrics: the runtime\'s exposition followed by the kit\'s', function () {
  this.timeout(20_000);
  let server: Server;
  let url: string;

  before(async () => {
    installRuntimeHooks();
    const handle = Object.assign(async () => ({ statusCode: 202, body: { accepted: true } }), { spec: { name: 'unit-merge', method: 'POST', path: '/api/merge' } });
    const port = await freePort();
    server = await startUnderRuntime({ handle }, { port, logLevel: 'silent', host: '127.0.0.1' });
    url = `http://127.0.0.1:${port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('holds faas_* and the kit\'s series once each, in Prometheus text 0.0.4, without the runtime\'s stray headers', async () => {
    assert.equal((await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 202);
    assert.equal((await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"broken":' })).status, 400);
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.headers.get('0'), null, 'faas-js-runtime 3.0.2 sets one header per character of "Content-Type"');
    const e = parseExposition(await res.text());
    assert.deepEqual(e.types.filter((t, i) => e.types.indexOf(t) !== i), [], 'no metric declared twice');
    assert.equal(valueOf(e, 'faas_invocations'), 2);
    const accepted = { function: 'unit-merge', route: '/api/merge', method: 'POST' };
    assert.equal(valueOf(e, 'http_server_requests_total', { ...accepted, status: '202' }), 1);
    assert.equal(valueOf(e, 'http_server_requests_total', { ...accepted, status: '400' }), 1, 'malformed JSON answered by the kit\'s error handler counts too');
    // A scrape is not a request of the route.
    const again = parseExposition(await (await fetch(`${url}/metrics`)).text());
    assert.equal(again.samples.filter((s) => s.name === 'http_server_requests_total').reduce((n, s) => n + s.value, 0), 2);
  });
});
