import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, deliver, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

describe('dead-letter-alert-mailer (consumer of dead-letter-events)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  it('refuses data that breaks the contract with a 400 naming the field (dead-lettered, never retried)', async () => {
    const res = await deliver(running.url, { type: 'com.medlab.dead-letter.alert-raised', data: { unexpected: true } });
    assert.equal(res.status, 400);
    assert.ok(res.body['invalid-params'].length);
  });
});
