// handle() called with a plain Context, as faas-js-runtime calls it: the route's own rules need no database.
import { strict as assert } from 'node:assert';
import type { Context } from 'faas-js-runtime';
import { handle } from './index';

const context = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  ({ method: 'GET', query, headers, body: undefined, rawBody: undefined } as unknown as Context);

describe('availability handle() with a plain Context (no database)', () => {
  it('a range that ends before it starts is a 400 naming query/to', async () => {
    const res = await handle(context({ branchId: 'hcm-d1', from: '2030-01-05', to: '2030-01-01' }));
    assert.equal(res.statusCode, 400);
    assert.deepEqual((res.body as { 'invalid-params': unknown[] })['invalid-params'], [{ name: 'query/to', reason: 'the range ends before it starts' }]);
  });

  it('a missing branchId is a 400 naming it, before anything is read', async () => {
    const res = await handle(context({ from: '2030-01-01', to: '2030-01-01' }));
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.deepEqual((res.body as { 'invalid-params': Array<{ name: string }> })['invalid-params'].map((p) => p.name), ['query/branchId']);
  });

  it('a foreign browser origin is refused with 403 and no CORS grant', async () => {
    const res = await handle(context({ branchId: 'hcm-d1', from: '2030-01-01', to: '2030-01-01' }, { origin: 'https://evil.example' }));
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});
