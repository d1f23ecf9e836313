// The sending half of the notification system on a real Kafka wire protocol (librdkafka's mock cluster,
// started by npm test), wired as knative/ and keda/ declare it: a delivery-due on notification-deliveries →
// the sender's KafkaSource → an SMS taken by the Twilio-shaped stand-in → its signed status callbacks
// through the gateway's public route → delivery-reported on notification-updates → the updates consumer →
// the delivery delivered.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { startBundleOnKafka, type BundleOnKafka } from './support/kafka';
import { resetDatabase } from './support/fixtures';
import { startStandIns, seedNotification, type StandIns } from './support/notifications';


describe('notification sending through Kafka (mock broker)', function () {
  this.timeout(90_000);
  let running: BundleOnKafka;
  let bundle: Bundle;
  let producer: Producer;
  let providers: StandIns;

  before(async () => {
    await resetDatabase();
    running = await startBundleOnKafka('notification-test', ['notification-deliveries', 'notification-updates', 'notification-events']);
    ({ bundle, producer } = running);
    // Providers call back at the portal's public address: here, the bundle's gateway (the channels read their
    // settings again, so the functions already running send to the stand-ins).
    providers = await startStandIns(bundle.url);
  });

  after(async () => {
    await running?.stop();
    await providers?.close();
  });

  const until: BundleOnKafka['until'] = (check, what, timeoutMs) => running.until(check, what, timeoutMs);

  it('a delivery-due becomes one SMS, and its delivered callback comes back through notification-updates to the delivery', async () => {
    const s = await seedNotification({ plan: ['in-app', 'sms', 'email'] });
    const deliveryId = s.deliveries.sms;
    await producer.send({ topic: 'notification-deliveries', messages: [{
      key: deliveryId,
      value: JSON.stringify({ deliveryId, notificationId: s.notificationId, channel: 'sms', attempt: 1 }),
      headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/notification/dispatcher', ce_type: 'com.medlab.notification.delivery-due', 'content-type': 'application/json' },
    }] });

    const delivered = await until(async () => {
      const d = await db().delivery.findUniqueOrThrow({ where: { id: deliveryId } });
      return d.status === 'delivered' && d;
    }, 'the SMS delivery delivered');
    assert.equal(providers.sms.messages.length, 1);
    const [sms] = providers.sms.messages;
    assert.equal(delivered.providerMessageId, sms.sid);
    assert.equal(delivered.attempts, 1);
    await providers.sms.settled();
    assert.deepEqual(sms.callbacks.map((c) => [c.status, c.answered]), [['sent', 204], ['delivered', 204]], 'both callbacks were signed and taken by the public route');
    const history = await db().deliveryEvent.findMany({ where: { deliveryId } });
    assert.deepEqual(history.map((e) => `${e.source}:${e.status}`).sort(), [`provider:twilio:${sms.sid}:delivered`, `provider:twilio:${sms.sid}:sent`, 'sender:sent']);
    // No failover: the next channel of the plan was never needed.
    assert.equal(await db().delivery.count({ where: { notificationId: s.notificationId, channel: 'email' } }), 0);
  });
});
