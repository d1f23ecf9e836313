import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, published, type RunningFunction } from '../../../test/support/fixtures';
import { startStandIns, seedNotification, deliveryDue, type StandIns } from '../../../test/support/notifications';
import { MAX_ATTEMPTS } from '../delivery-rules';
import { CLAIM_STALE_SECONDS, applyReport } from '../deliveries';
import { transaction } from '../../shared/outbox';
import { system } from '../system';

describe('notification-sender (KafkaSource on notification-deliveries)', function () {
  this.timeout(60_000);
  let sender: RunningFunction;
  let providers: StandIns;

  before(async () => {
    providers = await startStandIns('https://portal.medlab.example');
    sender = await startFunction(fn);
  });
  after(async () => {
    await sender.close();
    await providers.close();
  });
  beforeEach(async () => {
    await resetDatabase();
    providers.smtp.reset();
    providers.sms.reset();
    providers.push.reset();
  });

  const deliveryOf = (id: string) => db().delivery.findUniqueOrThrow({ where: { id } });
  const history = async (id: string) => (await db().deliveryEvent.findMany({ where: { deliveryId: id }, orderBy: { id: 'asc' } })).map((e) => `${e.source}:${e.status}${e.errorCode ? `:${e.errorCode}` : ''}`);
  const events = async (type: string) => (await published(type.endsWith('delivery-due') ? 'notification-deliveries' : 'notification-events')).filter((e) => e.type === type);

  it('the in-app delivery is the patient\'s inbox item, delivered at once, with delivery-changed', async () => {
    const s = await seedNotification({ contact: { language: 'en' } });
    const res = await deliver(sender.url, deliveryDue(s, 'in-app'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const item = await db().inboxItem.findUniqueOrThrow({ where: { notificationId: s.notificationId } });
    assert.equal(item.patientId, s.patientId);
    assert.equal(item.title, 'Your results are ready');
    assert.equal(item.link, '/results/acc-1');
    assert.equal((await deliveryOf(s.deliveries['in-app'])).status, 'delivered');
    assert.deepEqual(await history(s.deliveries['in-app']), ['sender:delivered']);
    const [changed] = await events('com.medlab.notification.delivery-changed');
    assert.deepEqual({ ...changed.data, at: undefined }, {
      notificationId: s.notificationId, deliveryId: s.deliveries['in-app'], requestId: s.requestId, patientId: s.patientId,
      channel: 'in-app', status: 'delivered', at: undefined, template: 'results-ready', category: 'results',
    });
  });

  it('one SMS per delivery even when delivery-due comes twice at once and again later; the delivery id is the idempotency key', async () => {
    const s = await seedNotification();
    const first = deliveryDue(s, 'sms');
    const answers = await Promise.all([deliver(sender.url, first), deliver(sender.url, deliveryDue(s, 'sms')), deliver(sender.url, first)]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    const later = await deliver(sender.url, deliveryDue(s, 'sms'));
    assert.equal(later.body.result.skipped, 'already sent');
    assert.equal(providers.sms.messages.length, 1);
    const [sms] = providers.sms.messages;
    assert.equal(sms.to, '+84901234567');
    assert.equal(sms.deliveryId, s.deliveries.sms);
    assert.doesNotMatch(sms.body, /an\.nguyen|84901234567/);
    const d = await deliveryOf(s.deliveries.sms);
    assert.equal(d.status, 'sent');
    assert.equal(d.attempts, 1);
    assert.equal(d.providerMessageId, sms.sid);
    assert.equal(d.claimedAt, null);
    assert.equal(d.nextAttemptAt, null);
    assert.deepEqual(await history(s.deliveries.sms), ['sender:sent']);
  });

  it('the email is the template in the patient\'s language, to the contact\'s address as it is now', async () => {
    const s = await seedNotification({ plan: ['in-app', 'email'], contact: { language: 'en', email: 'old@example.vn' } });
    await db().contactPoint.update({ where: { patientId: s.patientId }, data: { email: 'new@example.vn' } });
    assert.equal((await deliver(sender.url, deliveryDue(s, 'email'))).status, 200);
    assert.equal(providers.smtp.emails.length, 1);
    const [mail] = providers.smtp.emails;
    assert.deepEqual(mail.to, ['new@example.vn']);
    assert.equal(mail.subject, 'Your results are ready');
    assert.equal(mail.messageId, `<${s.deliveries.email}@medlab.example>`);
    assert.match(mail.text, /^Your lab results are ready\. Please sign in to the patient portal to view them\.\n\nhttps:\/\/portal\.medlab\.example\/results\/acc-1$/);
  });

  it('a push goes to each live subscription, decrypted by the push service as {title, body, link, notificationId}', async () => {
    const s = await seedNotification({ plan: ['in-app', 'push'] });
    const browser = providers.push.subscribe();
    await db().pushSubscription.create({ data: { id: browser.id, patientId: s.patientId, endpoint: browser.endpoint, p256dh: browser.p256dh, auth: browser.auth } });
    assert.equal((await deliver(sender.url, deliveryDue(s, 'push'))).status, 200);
    assert.deepEqual(providers.push.received.map((r) => r.payload), [{ title: 'Kết quả xét nghiệm đã sẵn sàng', body: 'Kết quả xét nghiệm của bạn đã có. Vui lòng đăng nhập cổng thông tin bệnh nhân để xem.', link: '/results/acc-1', notificationId: s.notificationId }]);
    assert.equal((await deliveryOf(s.deliveries.push)).status, 'delivered');
  });

  it('a sender killed after the provider took a send and before recording it: the send again carries the same identity, so the patient sees one SMS, one email, one push', async () => {
    const s = await seedNotification({ plan: ['in-app', 'sms', 'email', 'push'], deliver: ['sms', 'email', 'push'] });
    const browser = providers.push.subscribe();
    await db().pushSubscription.create({ data: { id: browser.id, patientId: s.patientId, endpoint: browser.endpoint, p256dh: browser.p256dh, auth: browser.auth } });
    for (const channel of ['sms', 'email', 'push']) assert.equal((await deliver(sender.url, deliveryDue(s, channel))).status, 200);
    // What a killed sender leaves: the provider took it, the delivery still queued under a claim now stale.
    const stale = new Date(Date.now() - (CLAIM_STALE_SECONDS + 5) * 1000);
    await db().delivery.updateMany({ where: { notificationId: s.notificationId }, data: { status: 'queued', attempts: 0, claimedAt: stale, nextAttemptAt: stale } });
    for (const channel of ['sms', 'email', 'push']) assert.equal((await deliver(sender.url, deliveryDue(s, channel))).status, 200);

    assert.equal(providers.sms.messages.length, 1, 'the SMS provider sends nothing for an idempotency token it has taken');
    assert.equal(providers.smtp.emails.length, 2, 'SMTP takes no key: the email goes again…');
    assert.equal(new Set(providers.smtp.emails.map((e) => e.messageId)).size, 1, '…with the same Message-ID');
    assert.equal(providers.smtp.mailbox().length, 1, 'and the mailbox holds it once');
    assert.equal(providers.push.received.length, 2, 'the push service takes it again…');
    assert.deepEqual(new Set(providers.push.received.map((p) => p.topic)), new Set([s.deliveries.push.replace(/-/g, '')]), '…with the same Topic');
    assert.deepEqual(providers.push.shown.map((n) => [n.tag, n.replaced]), [[s.notificationId, 1]], 'the browser shows one notification, replaced');
    for (const channel of ['sms', 'email', 'push']) assert.equal((await deliveryOf(s.deliveries[channel])).attempts, 1);
  });

  it('a phone offline holds its pushes at the push service; the same send again replaces the one held (RFC 8030 Topic), so one arrives', async () => {
    const s = await seedNotification({ plan: ['in-app', 'push'] });
    const browser = providers.push.subscribe();
    await db().pushSubscription.create({ data: { id: browser.id, patientId: s.patientId, endpoint: browser.endpoint, p256dh: browser.p256dh, auth: browser.auth } });
    providers.push.setOnline(browser.id, false);
    assert.equal((await deliver(sender.url, deliveryDue(s, 'push'))).status, 200);
    const stale = new Date(Date.now() - (CLAIM_STALE_SECONDS + 5) * 1000);
    await db().delivery.update({ where: { id: s.deliveries.push }, data: { status: 'queued', attempts: 0, claimedAt: stale, nextAttemptAt: stale } });
    assert.equal((await deliver(sender.url, deliveryDue(s, 'push'))).status, 200);
    assert.equal(providers.push.shown.length, 0);
    providers.push.setOnline(browser.id, true);
    assert.deepEqual(providers.push.shown.map((n) => [n.tag, n.replaced]), [[s.notificationId, 0]], 'one message reached the browser');
  });

  it('a provider\'s delivered report that lands before the sender records its send: the delivery stays delivered, with both in its history', async () => {
    const s = await seedNotification();
    providers.sms.beforeAnswer(async (m) => {
      await transaction(system, '/test/updates', (tx, emit) => applyReport(tx, emit, { deliveryId: m.deliveryId!, status: 'delivered', at: new Date(), source: `provider:${m.sid}` }));
    });
    const res = await deliver(sender.url, deliveryDue(s, 'sms'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [sms] = providers.sms.messages;
    const d = await deliveryOf(s.deliveries.sms);
    assert.equal(d.status, 'delivered');
    assert.equal(d.attempts, 1);
    assert.equal(d.claimedAt, null);
    assert.equal(d.providerMessageId, sms.sid);
    assert.deepEqual(await history(s.deliveries.sms), [`provider:${sms.sid}:delivered`, 'sender:sent']);
    // One delivery-changed, the report's: the sender's "sent" came second and changes nothing.
    assert.deepEqual((await events('com.medlab.notification.delivery-changed')).filter((e) => e.data.deliveryId === s.deliveries.sms).map((e) => e.data.status), ['delivered']);
  });

  it('a delivery-due naming no delivery is refused and leaves no inbox row: redelivered once the delivery exists, it is sent', async () => {
    const s = await seedNotification();
    // The same CloudEvent both times: a kept inbox row would make the second a duplicate with nothing sent.
    const due = { ...deliveryDue(s, 'sms'), id: randomUUID() };
    const saved = await db().delivery.findUniqueOrThrow({ where: { id: s.deliveries.sms } });
    await db().delivery.delete({ where: { id: saved.id } });
    const refused = await deliver(sender.url, due);
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.body['invalid-params'], [{ name: 'data/deliveryId', reason: 'no such delivery' }]);
    await db().delivery.create({ data: saved });
    const again = await deliver(sender.url, due);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(providers.sms.messages.length, 1);
  });

  it('a provider outage is retried with backoff: attempts+1, the next attempt 15 s on, and nothing sent before it is due', async () => {
    const s = await seedNotification();
    providers.sms.failNext(503);
    const before = Date.now();
    const res = await deliver(sender.url, deliveryDue(s, 'sms'));
    assert.equal(res.status, 200);
    let d = await deliveryOf(s.deliveries.sms);
    assert.equal(d.status, 'queued');
    assert.equal(d.attempts, 1);
    assert.equal(d.claimedAt, null);
    assert.match(d.lastError!, /sms: the SMS provider answered 503/);
    const wait = d.nextAttemptAt!.getTime() - before;
    assert.ok(wait >= 13_500 && wait <= 16_500 + (Date.now() - before), `the first retry is 15 s ± 10 % on (${wait} ms)`);
    // A delivery-due before it is due (a redelivery) sends nothing.
    assert.equal((await deliver(sender.url, deliveryDue(s, 'sms'))).body.result.skipped, 'its next attempt is not due yet');
    assert.equal(providers.sms.messages.length, 0);
    // The cron's delivery-due once it is due: sent, with the same idempotency key.
    await db().delivery.update({ where: { id: d.id }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
    assert.equal((await deliver(sender.url, deliveryDue(s, 'sms'))).status, 200);
    d = await deliveryOf(s.deliveries.sms);
    assert.equal(d.status, 'sent');
    assert.equal(d.attempts, 2);
    assert.equal(providers.sms.messages.length, 1);
  });

  it('the last retry of an outage fails the delivery, fails over to the next channel and answers 422 for the dead-letter system', async () => {
    const s = await seedNotification();
    await db().delivery.update({ where: { id: s.deliveries.sms }, data: { attempts: MAX_ATTEMPTS - 1 } });
    providers.sms.failNext(500);
    const res = await deliver(sender.url, deliveryDue(s, 'sms'));
    assert.equal(res.status, 422);
    assert.match(res.body.detail, /provider unavailable: 9 attempts failed: sms: the SMS provider answered 500/);
    const d = await deliveryOf(s.deliveries.sms);
    assert.equal(d.status, 'failed');
    assert.equal(d.nextAttemptAt, null);
    const email = await db().delivery.findUniqueOrThrow({ where: { notificationId_channel: { notificationId: s.notificationId, channel: 'email' } } });
    assert.equal(email.status, 'queued');
    const due = await events('com.medlab.notification.delivery-due');
    assert.deepEqual(due.map((e) => e.data), [{ deliveryId: email.id, notificationId: s.notificationId, channel: 'email', attempt: 1 }]);
  });

  it('a permanent failure (no phone number) fails over to email at once; the email goes out', async () => {
    const s = await seedNotification({ contact: { phone: undefined } });
    await db().contactPoint.update({ where: { patientId: s.patientId }, data: { phone: null } });
    assert.equal((await deliver(sender.url, deliveryDue(s, 'sms'))).status, 200);
    assert.equal((await deliveryOf(s.deliveries.sms)).lastError, 'no-address');
    assert.deepEqual(await history(s.deliveries.sms), ['sender:failed:no-address']);
    const [due] = await events('com.medlab.notification.delivery-due');
    assert.equal(due.data.channel, 'email');
    assert.equal((await deliver(sender.url, { type: 'com.medlab.notification.delivery-due', data: due.data })).status, 200);
    assert.equal(providers.smtp.emails.length, 1);
    assert.equal(providers.sms.messages.length, 0);
  });

  it('every channel failing makes the notification unreachable (its in-app item stays)', async () => {
    const s = await seedNotification({ plan: ['in-app', 'email'], deliver: ['in-app', 'email'] });
    providers.smtp.refuseRecipient('an.nguyen@example.vn');
    await deliver(sender.url, deliveryDue(s, 'in-app'));
    assert.equal((await deliver(sender.url, deliveryDue(s, 'email'))).status, 200);
    assert.equal((await deliveryOf(s.deliveries.email)).status, 'failed');
    assert.equal((await db().notification.findUniqueOrThrow({ where: { id: s.notificationId } })).status, 'unreachable');
    const [unreachable] = await events('com.medlab.notification.unreachable');
    assert.deepEqual(unreachable.data, { notificationId: s.notificationId, requestId: s.requestId, patientId: s.patientId, template: 'results-ready', reason: 'every channel failed: email failed (smtp-550)' });
    assert.equal(await db().inboxItem.count({ where: { notificationId: s.notificationId } }), 1);
  });

  it('a delivery that does not exist, or a template that cannot be filled, is refused with the reason (dead-lettered)', async () => {
    const s = await seedNotification({ variables: {} });
    const missing = await deliver(sender.url, { type: 'com.medlab.notification.delivery-due', data: { deliveryId: randomUUID(), notificationId: s.notificationId, channel: 'sms' } });
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body['invalid-params'], [{ name: 'data/deliveryId', reason: 'no such delivery' }]);
    const unfilled = await deliver(sender.url, deliveryDue(s, 'sms'));
    assert.equal(unfilled.status, 422);
    assert.match(unfilled.body.detail, /template results-ready needs link/);
    assert.equal((await deliveryOf(s.deliveries.sms)).status, 'failed');
    assert.equal(await db().delivery.count({ where: { notificationId: s.notificationId, channel: 'email' } }), 0, 'no failover: email would render the same template');
    assert.equal(providers.sms.messages.length, 0);
    const bad = await deliver(sender.url, { type: 'com.medlab.notification.delivery-due', data: { deliveryId: 'x' } });
    assert.equal(bad.status, 400);
  });

  it('in production refuses to start without its providers\' settings, naming each one', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DATABASE_URL: 'postgresql://portal@db.invalid:5432/portal', KAFKA_BROKERS: 'kafka.invalid:9092', LOG_LEVEL: 'silent', SMTP_URL: 'smtp://smtp.invalid:587' };
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(root, 'node_modules/faas-js-runtime/bin/cli.js'), path.join(__dirname, 'index.ts'), '--port', '0'], { cwd: __dirname, env, encoding: 'utf8', timeout: 40_000 });
    assert.equal(run.signal, null, 'it exited by itself rather than running until killed');
    assert.notEqual(run.status, 0);
    assert.match(run.stdout + run.stderr, /NOTIFICATION_EMAIL_FROM, SMS_API_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM, VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT, PUBLIC_URL must be set in production/);
  });
});
