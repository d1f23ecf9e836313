import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as resend from './index';
import * as sender from '../sender/index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, deliver, patientToken, staffToken, published, type RunningFunction } from '../../../test/support/fixtures';
import { createNotice } from '../../../test/support/notification-api';
import { startStandIns, seedNotification, deliveryDue, type StandIns } from '../../../test/support/notifications';

describe('notification-resend (POST /api/notifications/resend)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(resend); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const due = async () => (await published('notification-deliveries')).filter((e) => e.type === 'com.medlab.notification.delivery-due');
  const failedSms = () => createNotice({
    status: 'done',
    deliveries: [{ channel: 'in-app', status: 'delivered' }, { channel: 'sms', status: 'failed', attempts: 3, lastError: '30006 landline' }],
  });

  it('a failed SMS goes back to queued with its attempts kept, the history names the staff member, and the sender is told it is due', async () => {
    const notice = await failedSms();
    const res = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'sms' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const sms = notice.deliveries[1];
    assert.deepEqual([res.body.delivery.deliveryId, res.body.delivery.status, res.body.delivery.attempts], [sms.id, 'queued', 3]);
    assert.deepEqual(res.body.delivery.history.map((h: { status: string; source: string }) => [h.status, h.source]), [['queued', 'staff:staff-hcm-d1']]);
    const [event, ...more] = await due();
    assert.equal(more.length, 0);
    assert.deepEqual(event.data, { deliveryId: sms.id, notificationId: notice.notification.id, channel: 'sms', attempt: 4 });
    assert.equal((await db().notification.findUniqueOrThrow({ where: { id: notice.notification.id } })).status, 'dispatched');
    const changed = (await published('notification-events')).map((e) => [e.type, e.data.status, e.data.channel]);
    assert.deepEqual(changed, [['com.medlab.notification.delivery-changed', 'queued', 'sms']]);
  });

  it('without a channel, the first of the plan after in-app; one the failover had not reached yet is made', async () => {
    const notice = await createNotice({ channels: ['in-app', 'email', 'sms'] });
    const res = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual([res.body.delivery.channel, res.body.delivery.attempts], ['email', 0]);
    assert.equal(await db().delivery.count({ where: { notificationId: notice.notification.id } }), 2);
    assert.equal((await due())[0].data.attempt, 1);
  });

  it('a channel not in the plan, or one still queued, is 409 naming body/channel; two staff at once make one send', async () => {
    const notice = await failedSms();
    const push = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'push' } });
    assert.deepEqual([push.status, push.body['invalid-params'][0].name], [409, 'body/channel']);
    const answers = await Promise.all([0, 1, 2].map(() => call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'sms' } })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409, 409]);
    assert.equal(answers.find((a) => a.status === 409)!.body['invalid-params'][0].name, 'body/channel');
    assert.equal((await due()).length, 1);
    const inApp = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'in-app' } });
    assert.deepEqual([inApp.status, inApp.body['invalid-params'][0].name], [409, 'body/channel']);
  });

  it('resending twice after the first went out keeps one history row per staff member, at the latest time', async () => {
    const notice = await failedSms();
    await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'sms' } });
    await db().delivery.update({ where: { id: notice.deliveries[1].id }, data: { status: 'failed' } });
    const again = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id, channel: 'sms' } });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.delivery.history.length, 1);
    assert.equal((await due()).length, 2);
  });

  describe('with the sender and the SMS provider (which sends nothing for a token it has seen)', () => {
    let sending: RunningFunction;
    let providers: StandIns;
    before(async () => {
      providers = await startStandIns('https://portal.medlab.example');
      sending = await startFunction(sender);
    });
    after(async () => {
      await sending.close();
      await providers.close();
    });
    beforeEach(() => providers.sms.reset());

    it('a resend is a new message with a new provider key, sent once however often its request (one Idempotency-Key) or its delivery-due comes', async () => {
      const s = await seedNotification();
      assert.equal((await deliver(sending.url, deliveryDue(s, 'sms'))).status, 200);
      const [first] = providers.sms.messages;
      assert.equal(first.idempotencyKey, s.deliveries.sms, 'the first send\'s key is the delivery id');

      const ask = () => call(fn.url, { token: staffToken(), body: { notificationId: s.notificationId, channel: 'sms' }, headers: { 'idempotency-key': 'resend-1' } });
      const [answer, retried] = [await ask(), await ask()];
      assert.deepEqual([answer.status, retried.status], [202, 202], JSON.stringify(retried.body));
      assert.deepEqual(retried.body, answer.body, 'the retried request is answered with the first answer');
      const dues = await due();
      assert.equal(dues.length, 1, 'one resend for one Idempotency-Key');

      const again = { type: 'com.medlab.notification.delivery-due', data: dues[0].data };
      assert.equal((await deliver(sending.url, again)).status, 200);
      assert.equal((await deliver(sending.url, { ...again, id: randomUUID() })).body.result.skipped, 'already sent');
      assert.equal(providers.sms.messages.length, 2, 'the provider sent the resend: its key is not the first send\'s');
      const [, second] = providers.sms.messages;
      assert.notEqual(second.idempotencyKey, first.idempotencyKey);
      assert.equal(second.deliveryId, s.deliveries.sms);
      assert.equal((await db().delivery.findUniqueOrThrow({ where: { id: s.deliveries.sms } })).sendKey, second.idempotencyKey);

      // A second resend request (another key) is another deliberate message, with a key of its own.
      const later = await call(fn.url, { token: staffToken(), body: { notificationId: s.notificationId, channel: 'sms' }, headers: { 'idempotency-key': 'resend-2' } });
      assert.equal(later.status, 202);
      assert.equal((await deliver(sending.url, { type: 'com.medlab.notification.delivery-due', data: (await due())[1].data })).status, 200);
      assert.equal(new Set(providers.sms.messages.map((m) => m.idempotencyKey)).size, 3);
    });
  });

  it('a missing notification is 404; a pending or cancelled one 409; patients cannot resend', async () => {
    const missing = await call(fn.url, { token: staffToken(), body: { notificationId: randomUUID() } });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [404, 'body/notificationId']);
    for (const status of ['pending', 'cancelled'] as const) {
      const notice = await createNotice({ status, deliveries: [] });
      const res = await call(fn.url, { token: staffToken(), body: { notificationId: notice.notification.id } });
      assert.deepEqual([res.status, res.body['invalid-params'][0].name], [409, 'body/notificationId']);
    }
    const bad = await call(fn.url, { token: staffToken(), body: { notificationId: 'x', channel: 'fax' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['body/channel', 'body/notificationId']);
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { notificationId: randomUUID() } })).status, 403);
    assert.equal((await due()).length, 0);
  });
});
