import { strict as assert } from 'node:assert';
import { route, ok, created } from './http';
import { signToken } from './auth';
import { conflict, notFound } from './domain-errors';
import { system } from '../booking-queue/system';
import { randomUUID } from 'node:crypto';
import { fingerprintOf, idempotencyLock } from './idempotency';
import { db } from './db';
import { startFunction, call, patientToken, resetDatabase, holdAdvisoryLock, type RunningFunction } from '../../test/support/fixtures';

const echo = route(
  { name: 'echo', system, method: 'POST', path: '/api/echo', summary: 'echo', auth: ['patient'], responses: { 200: { description: 'echo' } },
    body: { type: 'object', additionalProperties: false, required: ['n'], properties: { n: { type: 'integer' } } } },
  // caller is typed by auth: a patient route's caller has a patientId, no `!` needed.
  async ({ body, caller }) => ok({ n: body.n, who: caller.patientId }),
);
const board = route(
  { name: 'board', system, method: 'GET', path: '/api/board', summary: 'public', auth: 'public', responses: { 200: { description: 'board' } } },
  async ({ caller }) => ok({ anonymous: !caller }),
);
const refusing = route(
  { name: 'refusing', system, method: 'POST', path: '/api/refusing', summary: 'refuses', auth: ['patient'], responses: { 200: { description: 'never' } },
    body: { type: 'object', properties: { slotId: { type: 'string' }, kind: { enum: ['missing', 'full'] } } } },
  async ({ body }) => { throw body.kind === 'missing' ? notFound('slotId', 'no such slot') : conflict('the slot is full', 'slotId'); },
);
let effects = 0;
const making = route(
  { name: 'making', system, method: 'POST', path: '/api/making', summary: 'creates', auth: ['patient'], idempotent: true, responses: { 201: { description: 'made' } },
    body: { type: 'object', properties: { n: { type: 'integer' } } } },
  async ({ body, transaction }) => transaction(async () => { effects++; return created({ n: body.n, effect: effects }); }),
);

// Another request with the same key commits while this one runs, after this one's lookup found nothing (the
// race claim() cannot see): its record is written here from another connection, as its commit would.
let raced = 0;
const racing = route(
  { name: 'racing', system, method: 'POST', path: '/api/racing', summary: 'races', auth: ['patient'], idempotent: true, responses: { 201: { description: 'made' } },
    body: { type: 'object', properties: { n: { type: 'integer' } } } },
  async ({ body, caller, headers, transaction }) => transaction(async (_tx, emit) => {
    raced++;
    await db().$executeRaw`INSERT INTO booking_queue.idempotency_record (scope, caller, key, fingerprint, status, headers, body)
      VALUES ('racing', ${`patient:${caller.subject}`}, ${headers['idempotency-key']!}, ${fingerprintOf(body, {})}, 201, '{}'::jsonb, '{"by":"the other request"}'::jsonb)`;
    await emit('com.medlab.slot.allocated', { slotId: randomUUID(), bookingId: randomUUID(), booked: 1, capacity: 1 });
    return created({ by: 'this request' });
  }),
);

describe('route() — the HTTP plumbing every route function shares', () => {
  let echoFn: RunningFunction;
  let boardFn: RunningFunction;
  let refusingFn: RunningFunction;
  let makingFn: RunningFunction;
  before(async () => {
    [echoFn, boardFn, refusingFn, makingFn] = await Promise.all([echo, board, refusing, making].map((handle) => startFunction({ handle })));
  });
  after(async () => { for (const f of [echoFn, boardFn, refusingFn, makingFn]) await f.close(); });
  beforeEach(resetDatabase);

  it('checks the caller before the body: an anonymous caller gets 401, not a schema lesson', async () => {
    const res = await call(echoFn.url, { body: { wrong: true } });
    assert.equal(res.status, 401);
  });

  it('hands the handler the caller its token proved', async () => {
    const res = await call(echoFn.url, { token: patientToken('p-7'), body: { n: 1 } });
    assert.deepEqual(res.body, { n: 1, who: 'p-7' });
  });

  it('refuses query parameters that would overwrite the runtime context (?method=, ?headers=)', async () => {
    const res = await call(`${echoFn.url}/?method=GET&headers=x`, { token: patientToken(), body: { n: 1 } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['query/headers', 'query/method']);
    // ?query= replaces the parsed query itself: refused all the same, never handled as if it were absent.
    const shadowed = await call(`${echoFn.url}/?query=x`, { token: patientToken(), body: { n: 1 } });
    assert.deepEqual([shadowed.status, shadowed.body['invalid-params'][0].name], [400, 'query/query']);
  });

  it('a public route ignores a stale token instead of refusing the screen', async () => {
    const stale = signToken({ sub: 'screen', role: 'staff', exp: Math.floor(Date.now() / 1000) - 60 });
    const res = await call(boardFn.url, { token: stale });
    assert.equal(res.status, 200);
    assert.equal(res.body.anonymous, true);
  });

  it('tokens must expire: one without exp is refused', async () => {
    const forever = signToken({ sub: 'p', role: 'patient' });
    const res = await call(echoFn.url, { token: forever, body: { n: 1 } });
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /exp/);
  });

  it('the wrong method is a 405 problem with Allow', async () => {
    const res = await call(echoFn.url, { method: 'GET', token: patientToken() });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  });

  it('domain errors become statuses, naming the request field that carried the domain field', async () => {
    const missing = await call(refusingFn.url, { token: patientToken(), body: { kind: 'missing' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body['invalid-params'], [{ name: 'body/slotId', reason: 'no such slot' }]);
    const full = await call(refusingFn.url, { token: patientToken(), body: { kind: 'full' } });
    assert.equal(full.status, 409);
    assert.equal(full.body.detail, 'the slot is full');
  });

  describe('idempotent routes (Idempotency-Key)', () => {
    const send = (key: string, n: number, who = 'p-1') => call(makingFn.url, { token: patientToken(who), body: { n }, headers: { 'idempotency-key': key } });

    it('a retry gets the first answer replayed, with no second effect', async () => {
      const before = effects;
      const first = await send('k-1', 1);
      const again = await send('k-1', 1);
      assert.equal(first.status, 201);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(effects, before + 1);
    });

    it('the same key with another body is 422; another caller\'s key is their own', async () => {
      await send('k-2', 1);
      const other = await send('k-2', 2);
      assert.equal(other.status, 422);
      assert.equal(other.body['invalid-params'][0].name, 'header/idempotency-key');
      assert.equal((await send('k-2', 2, 'p-2')).status, 201);
    });

    it('a request whose key another request answered meanwhile is undone and replays that answer', async () => {
      const fn = await startFunction({ handle: racing });
      try {
        const res = await call(fn.url, { token: patientToken('p-9'), body: { n: 1 }, headers: { 'idempotency-key': 'k-race' } });
        assert.equal(res.status, 201);
        assert.deepEqual(res.body, { by: 'the other request' });
        assert.equal(res.headers.get('idempotent-replayed'), 'true');
        assert.equal(raced, 1, 'the handler ran once; the replay did not run it again');
        const [{ n }] = await db().$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM booking_queue.outbox_event`;
        assert.equal(Number(n), 0, 'the undone request left no event behind');
      } finally {
        await fn.close();
      }
    });

    it('a retry while the first is still in flight is 409 with Retry-After', async () => {
      // Hold the key the way a first request in flight holds it: its transaction-scoped lock.
      const release = await holdAdvisoryLock(...idempotencyLock({ system, route: 'making', caller: 'patient:p-1', key: 'k-3' }));
      const res = await send('k-3', 1);
      await release();
      assert.equal(res.status, 409);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal((await send('k-3', 1)).status, 201);
    });

    it('a malformed key is a 400 naming the header', async () => {
      const res = await send('x'.repeat(201), 1);
      assert.equal(res.status, 400);
      assert.equal(res.body['invalid-params'][0].name, 'header/idempotency-key');
    });
  });
});
