import { strict as assert } from 'node:assert';
import * as preferences from './index';
import * as save from '../preference-save/index';
import { resetDatabase, startFunction, call, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';

describe('notification-preferences (GET /api/notifications/preferences)', () => {
  let fn: RunningFunction;
  let saving: RunningFunction;
  before(async () => { [fn, saving] = await Promise.all([startFunction(preferences), startFunction(save)]); });
  after(async () => { await fn.close(); await saving.close(); });
  beforeEach(async () => resetDatabase());

  it('lists the categories of the templates a patient receives (no operator alerts), the channels, and only the patient\'s own preferences', async () => {
    await call(saving.url, { token: patientToken('p-1'), body: { category: 'results', channels: ['in-app', 'push', 'email'], quietHours: { start: '22:00', end: '07:00' } } });
    await call(saving.url, { token: patientToken('p-2'), body: { category: '*', channels: ['in-app'] } });
    const res = await call(fn.url, { token: patientToken('p-1') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.categories, ['*', 'appointment', 'booking', 'queue', 'reminder', 'results']);
    assert.deepEqual(res.body.channels, ['in-app', 'push', 'sms', 'email']);
    assert.deepEqual(res.body.preferences.map((p: Record<string, unknown>) => [p.category, p.channels, p.quietHours]), [['results', ['in-app', 'push', 'email'], { start: '22:00', end: '07:00' }]]);
  });

  it('is for patients only', async () => {
    assert.equal((await call(fn.url, { token: staffToken() })).status, 403);
    assert.equal((await call(fn.url, {})).status, 401);
  });
});
