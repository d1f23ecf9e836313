import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

const NOW = new Date('2026-12-08T03:00:00Z'); // 10:00 in Ho Chi Minh City
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const DAY = 86_400_000;

describe('notification-cron (PingSources every minute and every night)', () => {
  let cron: RunningFunction;
  before(async () => { cron = await startFunction(fn); });
  after(async () => cron.close());
  beforeEach(async () => {
    await resetDatabase();
    await db().contactPoint.create({ data: { patientId: 'patient-1', email: 'an@example.com', phone: '+84901234567', crmVersion: 1 } });
  });

  const ping = (job: string, now = NOW) => call(cron.url, { method: 'POST', raw: JSON.stringify({ job, now: now.toISOString() }), headers: { 'content-type': 'application/json' } });
  const due = async () => (await published('notification-deliveries')).map((e) => e.data);
  const notice = (requestId: string, over: Record<string, unknown> = {}) => db().notification.create({
    data: { requestId, recipientKind: 'patient', patientId: 'patient-1', template: 'appointment-confirmed', category: 'appointment', channels: ['in-app', 'sms', 'email'], status: 'dispatched', ...over },
  });

  it('due retries (queued, next attempt reached, no live sender claim) are handed to the sender again, once', async () => {
    const n = await notice('r-1');
    const mk = (channel: string, over: Record<string, unknown>) => db().delivery.create({ data: { notificationId: n.id, channel, attempts: 2, ...over } });
    const retry = await mk('sms', { nextAttemptAt: ago(1000) });
    const staleClaim = await mk('email', { nextAttemptAt: ago(60_000), claimedAt: ago(10 * 60_000) });
    await mk('push', { nextAttemptAt: ago(1000), claimedAt: ago(5000) }); // a sender is on it now
    await mk('in-app', { nextAttemptAt: new Date(NOW.getTime() + 60_000) }); // not yet
    const other = await notice('r-2');
    await db().delivery.create({ data: { notificationId: other.id, channel: 'sms', status: 'sent', nextAttemptAt: ago(1000) } }); // moved on

    const first = await ping('minute');
    assert.equal(first.status, 200);
    assert.equal(first.body.retries, 2);
    assert.deepEqual((await due()).sort((a, b) => a.channel.localeCompare(b.channel)), [
      { deliveryId: staleClaim.id, notificationId: n.id, channel: 'email', attempt: 3 },
      { deliveryId: retry.id, notificationId: n.id, channel: 'sms', attempt: 3 },
    ]);
    assert.equal((await ping('minute', new Date(NOW.getTime() + 30_000))).body.retries, 0, 'a run again does not emit them twice');
    assert.equal((await due()).length, 2);
  });

  it('two runs at once dispatch each due notification once (rows are claimed with SKIP LOCKED)', async () => {
    for (let i = 0; i < 6; i++) await notice(`due-${i}`, { status: 'pending', channels: [], sendAt: ago(60_000) });
    const [a, b] = await Promise.all([ping('minute'), ping('minute')]);
    assert.equal(a.body.notifications.dispatched + b.body.notifications.dispatched, 6);
    assert.equal(await db().delivery.count(), 12);
    assert.equal((await due()).length, 12);
  });

  it('nightly: notifications past retention go with their deliveries, and old inbox items, handled events and idempotency records', async () => {
    const old = await notice('old', { createdAt: ago(181 * DAY) });
    await db().delivery.create({ data: { notificationId: old.id, channel: 'sms' } });
    const recent = await notice('recent', { createdAt: ago(179 * DAY) });
    await db().delivery.create({ data: { notificationId: recent.id, channel: 'sms' } });
    await db().inboxItem.create({ data: { patientId: 'patient-1', notificationId: old.id, deliveryId: crypto.randomUUID(), category: 'appointment', title: 't', body: 'b', createdAt: ago(181 * DAY) } });
    await db().inboxItem.create({ data: { patientId: 'patient-1', notificationId: recent.id, deliveryId: crypto.randomUUID(), category: 'appointment', title: 't', body: 'b', createdAt: ago(179 * DAY) } });
    await db().notificationInboxEvent.createMany({ data: [
      { consumer: 'c', source: 's', id: 'old', type: 't', processedAt: ago(31 * DAY) },
      { consumer: 'c', source: 's', id: 'new', type: 't', processedAt: ago(29 * DAY) },
    ] });
    await db().notificationIdempotencyRecord.createMany({ data: [
      { scope: 's', caller: 'c', key: 'old', fingerprint: 'f', status: 201, headers: {}, createdAt: ago(3 * DAY) },
      { scope: 's', caller: 'c', key: 'new', fingerprint: 'f', status: 201, headers: {}, createdAt: ago(DAY / 2) },
    ] });

    const res = await ping('daily');
    assert.deepEqual([res.status, res.body.removed], [200, { notifications: 1, inboxItems: 1, events: 1, idempotencyRecords: 1 }]);
    assert.deepEqual((await db().notification.findMany()).map((n) => n.requestId), ['recent']);
    assert.equal(await db().delivery.count(), 1);
    assert.deepEqual((await ping('daily')).body.removed, { notifications: 0, inboxItems: 0, events: 0, idempotencyRecords: 0 });
  });

  it('an unknown job or a bad instant is refused naming the field', async () => {
    const job = await ping('hourly');
    assert.deepEqual([job.status, job.body['invalid-params'][0].name], [400, 'body/job']);
    const bad = await call(cron.url, { method: 'POST', raw: JSON.stringify({ job: 'minute', now: 'soon' }), headers: { 'content-type': 'application/json' } });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'body/now']);
  });
});
