import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, BRANCH, patientToken, staffToken, token, type RunningFunction } from '../../../test/support/fixtures';

void patientToken; void staffToken; void token;

describe('notification-preferences (GET /api/notifications/preferences)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());

  it('answers the view for a valid request', async () => {
    const res = await call(running.url, { query: { branchId: BRANCH }, token: patientToken() });
    assert.equal(res.status, 200);
    assert.equal(res.body.branchId, BRANCH);
  });

  it('names the missing field in a problem+json 400', async () => {
    const res = await call(running.url, { query: {}, token: patientToken() });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'query/branchId');
  });
});
