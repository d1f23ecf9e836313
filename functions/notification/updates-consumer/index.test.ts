import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, published, type RunningFunction } from '../../../test/support/fixtures';
import { seedNotification, type Seeded } from '../../../test/support/notifications';

describe('notification-updates-consumer (KafkaSource on notification-updates)', function () {
  this.timeout(60_000);
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(() => consumer.close());
  beforeEach(() => resetDatabase());

  const SID = 'SM0123456789abcdef0123456789abcdef';
  const sent = async (s: Seeded, channel = 'sms') => db().delivery.update({ where: { id: s.deliveries[channel] }, data: { status: 'sent', provider: 'twilio', providerMessageId: SID, attempts: 1 } });
  const report = (s: Seeded, status: string, extra: Record<string, string> = {}) => deliver(consumer.url, {
    type: 'com.medlab.notification.delivery-reported', source: '/notification/notification-sms-callback',
    data: { deliveryId: s.deliveries.sms, channel: 'sms', provider: 'twilio', providerMessageId: SID, status, at: new Date().toISOString(), ...extra },
  });
  const statusOf = async (id: string) => (await db().delivery.findUniqueOrThrow({ where: { id } })).status;
  const history = async (id: string) => (await db().deliveryEvent.findMany({ where: { deliveryId: id }, orderBy: { id: 'asc' } })).map((e) => e.status);
  const changes = async () => (await published('notification-events')).filter((e) => e.type === 'com.medlab.notification.delivery-changed').map((e) => `${e.data.channel}:${e.data.status}`);

  it('callbacks out of order and twice: the status only moves forward, each report is one history row, one delivery-changed per real change', async () => {
    const s = await seedNotification();
    await sent(s);
    for (const status of ['delivered', 'sent', 'delivered', 'sent']) assert.equal((await report(s, status)).status, 200);
    assert.equal(await statusOf(s.deliveries.sms), 'delivered');
    assert.deepEqual(await history(s.deliveries.sms), ['delivered', 'sent']);
    assert.deepEqual(await changes(), ['sms:delivered']);
    // A late failure after delivered changes nothing either.
    await report(s, 'undelivered', { errorCode: '30003' });
    assert.equal(await statusOf(s.deliveries.sms), 'delivered');
    assert.equal(await db().delivery.count({ where: { notificationId: s.notificationId, channel: 'email' } }), 0);
  });

  it('the same report event delivered twice is applied once: the second is answered as a duplicate', async () => {
    const s = await seedNotification();
    await sent(s);
    const event = {
      type: 'com.medlab.notification.delivery-reported', source: '/notification/notification-sms-callback', id: randomUUID(),
      data: { deliveryId: s.deliveries.sms, channel: 'sms', provider: 'twilio', providerMessageId: SID, status: 'delivered', at: new Date().toISOString() },
    };
    const first = await deliver(consumer.url, event);
    assert.deepEqual(first.body, { status: 'processed', result: { changed: true, status: 'delivered' } });
    assert.deepEqual((await deliver(consumer.url, event)).body, { status: 'duplicate' });
    assert.deepEqual(await history(s.deliveries.sms), ['delivered']);
    assert.deepEqual(await changes(), ['sms:delivered']);
  });

  it('undelivered from the provider fails over to the next channel of the plan, as the sender does', async () => {
    const s = await seedNotification();
    await sent(s);
    assert.equal((await report(s, 'undelivered', { errorCode: '30003' })).status, 200);
    const d = await db().delivery.findUniqueOrThrow({ where: { id: s.deliveries.sms } });
    assert.equal(d.status, 'undelivered');
    assert.equal(d.lastError, 'provider 30003');
    assert.deepEqual((await db().deliveryEvent.findFirstOrThrow({ where: { deliveryId: d.id } })).errorCode, '30003');
    const email = await db().delivery.findUniqueOrThrow({ where: { notificationId_channel: { notificationId: s.notificationId, channel: 'email' } } });
    const due = (await published('notification-deliveries')).filter((e) => e.type === 'com.medlab.notification.delivery-due');
    assert.deepEqual(due.map((e) => e.data), [{ deliveryId: email.id, notificationId: s.notificationId, channel: 'email', attempt: 1 }]);
    assert.deepEqual(await changes(), ['sms:undelivered', 'email:queued']);
    // The same callback again: nothing more.
    await report(s, 'undelivered', { errorCode: '30003' });
    assert.equal(await db().delivery.count({ where: { notificationId: s.notificationId } }), 3);
  });

  it('a read receipt marks the in-app item read and the delivery read', async () => {
    const s = await seedNotification();
    const inApp = s.deliveries['in-app'];
    await db().delivery.update({ where: { id: inApp }, data: { status: 'delivered' } });
    await db().inboxItem.create({ data: { patientId: s.patientId, notificationId: s.notificationId, deliveryId: inApp, category: 'results', title: 't', body: 'b' } });
    const at = '2026-12-08T02:00:00.000Z';
    const read = { type: 'com.medlab.notification.read', data: { deliveryId: inApp, notificationId: s.notificationId, patientId: s.patientId, channel: 'in-app', at } };
    assert.equal((await deliver(consumer.url, read)).status, 200);
    assert.equal((await deliver(consumer.url, read)).status, 200);
    assert.equal(await statusOf(inApp), 'read');
    assert.equal((await db().inboxItem.findUniqueOrThrow({ where: { notificationId: s.notificationId } })).readAt?.toISOString(), at);
    assert.deepEqual(await history(inApp), ['read']);
    assert.deepEqual(await changes(), ['in-app:read']);
  });

  it('a read receipt for another patient\'s delivery, or a report for no delivery, is refused (dead-lettered)', async () => {
    const s = await seedNotification();
    const other = await deliver(consumer.url, { type: 'com.medlab.notification.read', data: { deliveryId: s.deliveries['in-app'], notificationId: s.notificationId, patientId: 'someone-else', channel: 'in-app', at: new Date().toISOString() } });
    assert.equal(other.status, 422);
    const none = await deliver(consumer.url, { type: 'com.medlab.notification.delivery-reported', data: { deliveryId: randomUUID(), channel: 'sms', provider: 'twilio', status: 'delivered', at: new Date().toISOString() } });
    assert.equal(none.status, 422);
    assert.deepEqual(none.body['invalid-params'], [{ name: 'data/deliveryId', reason: 'no such delivery' }]);
  });
});
