import { strict as assert } from 'node:assert';
import * as count from './index';
import { resetDatabase, startFunction, call, patientToken, token, type RunningFunction } from '../../../test/support/fixtures';
import { createNotice } from '../../../test/support/notification-api';

describe('notification-inbox-count (GET /api/notifications/inbox/count)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(count); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('the badge counts the patient\'s own unread items, and the unseen among them; read and archived ones are not counted', async () => {
    await createNotice({ patientId: 'p-1' });
    await createNotice({ patientId: 'p-1', inbox: { seenAt: new Date() } });
    await createNotice({ patientId: 'p-1', inbox: { readAt: new Date(), seenAt: new Date() } });
    await createNotice({ patientId: 'p-1', inbox: { archivedAt: new Date() } });
    await createNotice({ patientId: 'p-2' });
    const res = await call(fn.url, { token: patientToken('p-1') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { unread: 2, unseen: 1 });
    assert.deepEqual((await call(fn.url, { token: patientToken('p-3') })).body, { unread: 0, unseen: 0 });
  });

  it('is for patients only', async () => {
    assert.equal((await call(fn.url, { token: token('service', 'crm') })).status, 403);
    assert.equal((await call(fn.url, {})).status, 401);
  });
});
