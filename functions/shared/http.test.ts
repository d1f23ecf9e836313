import { strict as assert } from 'node:assert';
import { route, ok } from './http';
import { signToken } from './auth';
import { startFunction, call, patientToken, type RunningFunction } from '../../test/support/fixtures';

const echo = route(
  { name: 'echo', system: 'test', method: 'POST', path: '/api/echo', summary: 'echo', auth: ['patient'],
    body: { type: 'object', additionalProperties: false, required: ['n'], properties: { n: { type: 'integer' } } } },
  async ({ body, caller }) => ok({ n: body.n, who: caller?.subject }),
);
const board = route(
  { name: 'board', system: 'test', method: 'GET', path: '/api/board', summary: 'public', auth: 'public' },
  async ({ caller }) => ok({ anonymous: !caller }),
);

describe('route() — the HTTP plumbing every route function shares', () => {
  let echoFn: RunningFunction;
  let boardFn: RunningFunction;
  before(async () => { echoFn = await startFunction({ handle: echo }); boardFn = await startFunction({ handle: board }); });
  after(async () => { await echoFn.close(); await boardFn.close(); });

  it('checks the caller before the body: an anonymous caller gets 401, not a schema lesson', async () => {
    const res = await call(echoFn.url, { body: { wrong: true } });
    assert.equal(res.status, 401);
  });

  it('refuses query parameters that would overwrite the runtime context (?method=, ?headers=)', async () => {
    const res = await call(`${echoFn.url}/?method=GET&headers=x`, { token: patientToken(), body: { n: 1 } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['query/headers', 'query/method']);
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
});
