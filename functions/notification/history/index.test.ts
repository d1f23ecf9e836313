import { strict as assert } from 'node:assert';
import * as history from './index';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { createNotice } from '../../../test/support/notification-api';

describe('notification-history (GET /api/notifications/history)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(history); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('staff of any branch see a patient\'s notices with each delivery\'s status, attempts, last error and status history, and no text or address', async () => {
    const t0 = new Date(Date.now() - 60_000);
    const notice = await createNotice({
      patientId: 'p-1', template: 'appointment-reminder', category: 'reminder', createdAt: t0,
      deliveries: [
        { channel: 'in-app', status: 'read', history: [{ status: 'delivered', source: 'sender', at: t0 }, { status: 'read', source: 'patient', at: new Date(t0.getTime() + 5000) }] },
        { channel: 'sms', status: 'undelivered', attempts: 2, lastError: '30003 unreachable handset', history: [
          { status: 'sent', source: 'sender', at: new Date(t0.getTime() + 1000) },
          { status: 'undelivered', source: 'provider:cb-1', errorCode: '30003', at: new Date(t0.getTime() + 2000) },
        ] },
      ],
    });
    await createNotice({ patientId: 'p-2' });
    for (const t of [staffToken(), staffToken(OTHER_BRANCH), token('service', 'crm')]) {
      const res = await call(fn.url, { token: t, query: { patientId: 'p-1' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.notifications.length, 1);
      const [n] = res.body.notifications;
      assert.deepEqual([n.notificationId, n.template, n.category, n.status, n.channels], [notice.notification.id, 'appointment-reminder', 'reminder', 'dispatched', ['in-app', 'sms', 'email']]);
      const sms = n.deliveries.find((d: { channel: string }) => d.channel === 'sms');
      assert.deepEqual([sms.status, sms.attempts, sms.lastError], ['undelivered', 2, '30003 unreachable handset']);
      assert.deepEqual(sms.history.map((h: { status: string; source: string; errorCode: string | null }) => [h.status, h.source, h.errorCode]), [['sent', 'sender', null], ['undelivered', 'provider:cb-1', '30003']]);
      const text = JSON.stringify(res.body);
      for (const phi of ['Your results', 'portal.medlab.example', 'variables', 'title', 'body']) assert.ok(!text.includes(phi), `${phi} is not shown`);
    }
  });

  it('pages newest first with a cursor', async () => {
    for (let i = 0; i < 5; i++) await createNotice({ patientId: 'p-1', createdAt: new Date(Date.now() - (5 - i) * 1000) });
    const first = await call(fn.url, { token: staffToken(), query: { patientId: 'p-1', limit: '3' } });
    const second = await call(fn.url, { token: staffToken(), query: { patientId: 'p-1', limit: '3', cursor: first.body.nextCursor } });
    const times = [...first.body.notifications, ...second.body.notifications].map((n: { createdAt: string }) => n.createdAt);
    assert.equal(new Set(times).size, 5);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.equal(second.body.nextCursor, null);
  });

  it('patients cannot read it; the patient must be named', async () => {
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { patientId: 'p-1' } })).status, 403);
    const missing = await call(fn.url, { token: staffToken() });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [400, 'query/patientId']);
  });
});
