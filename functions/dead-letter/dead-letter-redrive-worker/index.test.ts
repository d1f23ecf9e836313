import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, type RunningFunction } from '../../../test/support/fixtures';

describe('dead-letter-redrive-worker (scheduled job)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());

  it('runs when its PingSource fires and says what it did', async () => {
    const res = await call(running.url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'p1', 'ce-source': '/ping', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' }, raw: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.body.done, true);
  });
});
