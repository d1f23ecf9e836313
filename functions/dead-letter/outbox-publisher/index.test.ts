import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

describe('dead-letter-outbox-publisher (PingSource every minute)', () => {
  let publisher: RunningFunction;
  before(async () => { publisher = await startFunction(fn); });
  after(async () => publisher.close());
  beforeEach(resetDatabase);

  const sweep = () => call(publisher.url, { method: 'POST', raw: '{"job":"dead-letter-outbox-publisher"}', headers: { 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/ping', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' } });

  it('sends what the post-commit publish could not (a retry-due left in the outbox), once, keyed by its letter', async () => {
    // As a replica stopped between its commit and its publish leaves it.
    const letterId = randomUUID();
    await db().$executeRaw`
      INSERT INTO dead_letter.outbox_event (id, topic, key, type, source, data)
      VALUES (${randomUUID()}::uuid, 'dead-letter-retries', ${letterId}, 'com.medlab.dead-letter.retry-due', '/dead-letter/dead-letter-cron', ${JSON.stringify({ letterId, retry: 1 })}::jsonb)`;
    const res = await sweep();
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { published: 1, backlog: 0 });
    assert.deepEqual(await published('dead-letter-retries'), [{ type: 'com.medlab.dead-letter.retry-due', key: letterId, data: { letterId, retry: 1 } }]);
    assert.deepEqual((await sweep()).body, { published: 0, backlog: 0 });
    assert.equal((await published('dead-letter-retries')).length, 1);
  });
});
