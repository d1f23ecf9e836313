import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

const UPDATED = 'com.medlab.crm.customer-updated';
const ERASED = 'com.medlab.crm.customer-erased';

describe('notification-customers-consumer (crm-customers → the contact copy)', () => {
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(async () => consumer.close());
  beforeEach(resetDatabase);

  const contact = (patientId = 'patient-1') => db().contactPoint.findUnique({ where: { patientId } });

  it('keeps the newest version: an older update arriving late never overwrites a newer one', async () => {
    const v1 = { patientId: 'patient-1', version: 1, email: 'old@example.com', phone: '+84901111111', language: 'vi', timezone: 'Asia/Ho_Chi_Minh', tier: 'standard' };
    const v3 = { ...v1, version: 3, email: 'new@example.com', language: 'en', tier: 'svip1' };
    const v2 = { ...v1, version: 2, email: 'middle@example.com' };
    for (const data of [v1, v3, v2]) assert.equal((await deliver(consumer.url, { type: UPDATED, data })).status, 200);
    const c = await contact();
    assert.deepEqual([c!.email, c!.phone, c!.language, c!.tier, c!.crmVersion], ['new@example.com', '+84901111111', 'en', 'svip1', 3n]);
    // The same version again changes nothing either; a newer one that leaves a field out keeps it, null clears it.
    await deliver(consumer.url, { type: UPDATED, data: { ...v3, email: 'again@example.com' } });
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 4, phone: null } });
    const after = await contact();
    assert.deepEqual([after!.email, after!.phone, after!.language, after!.crmVersion], ['new@example.com', null, 'en', 4n]);
  });

  it('the answer says what was applied, never a contact', async () => {
    const res = await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 1, email: 'an@example.com', phone: '+84901234567' } });
    assert.deepEqual(res.body.result, { patientId: 'patient-1', version: 1, applied: true });
    assert.ok(!JSON.stringify(res.body).includes('an@example.com') && !JSON.stringify(res.body).includes('+8490'));
  });

  it('erasure anonymises: contacts gone, push subscriptions, preferences and inbox items deleted, waiting notices cancelled; no later update brings them back', async () => {
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 5, email: 'an@example.com', phone: '+84901234567' } });
    await db().pushSubscription.create({ data: { patientId: 'patient-1', endpoint: 'https://push.example/1', p256dh: 'k', auth: 'a' } });
    await db().preference.create({ data: { patientId: 'patient-1', category: '*', channels: ['email'] } });
    const n = await db().notification.create({ data: { requestId: 'r-1', recipientKind: 'patient', patientId: 'patient-1', template: 'results-ready', category: 'results', channels: [], sendAt: new Date(Date.now() + 3600_000) } });
    const sent = await db().notification.create({ data: { requestId: 'r-0', recipientKind: 'patient', patientId: 'patient-1', template: 'results-ready', category: 'results', channels: ['in-app'], status: 'dispatched' } });
    await db().inboxItem.create({ data: { patientId: 'patient-1', notificationId: sent.id, deliveryId: crypto.randomUUID(), category: 'results', title: 't', body: 'b' } });
    // Someone else's things stay.
    await db().preference.create({ data: { patientId: 'patient-2', category: '*', channels: ['sms'] } });

    const res = await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-1', version: 6 } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { patientId: 'patient-1', erased: true, removed: { pushSubscriptions: 1, preferences: 1, inboxItems: 1 }, cancelled: 1 });
    const c = await contact();
    assert.deepEqual([c!.email, c!.phone, c!.erased], [null, null, true]);
    assert.equal((await db().notification.findUniqueOrThrow({ where: { id: n.id } })).status, 'cancelled');
    assert.equal(await db().preference.count({ where: { patientId: 'patient-2' } }), 1);

    // A late update (older) and even a newer one leave the erased copy empty.
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 5, email: 'an@example.com' } });
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 9, email: 'an@example.com' } });
    const still = await contact();
    assert.deepEqual([still!.email, still!.erased], [null, true]);
  });

  it('an erasure of a customer never seen leaves a tombstone, so an update sent before it cannot create them later', async () => {
    await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-9', version: 2 } });
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-9', version: 1, email: 'late@example.com' } });
    const c = await contact('patient-9');
    assert.deepEqual([c!.email, c!.erased, c!.crmVersion], [null, true, 2n]);
  });
});
