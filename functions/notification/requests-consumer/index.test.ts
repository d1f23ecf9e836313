import { strict as assert } from 'node:assert';
import * as fn from './index';
import * as cronFn from '../cron/index';
import { db } from '../../shared/db';
import { setIntakeClock } from '../intake/clock';
import { startFunction, call, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

const REQUESTED = 'com.medlab.notification.requested';
/** 10:00 in Ho Chi Minh City on a Tuesday: outside quiet hours. */
const MORNING = new Date('2026-12-08T03:00:00Z');
/** 23:00 in Ho Chi Minh City: inside the default quiet hours (21:00–07:00). */
const LATE = new Date('2026-12-08T16:00:00Z');
const NEXT_0700 = '2026-12-09T00:00:00.000Z';
const visit = { localTime: '09:00', weekday: 'Thứ Tư', localDate: '2026-12-09', link: '/appointments/a-1' };

const request = (over: Record<string, unknown> = {}) => ({
  requestId: `req-${crypto.randomUUID()}`, template: 'appointment-confirmed', recipient: { kind: 'patient', patientId: 'patient-1' }, category: 'appointment', variables: visit, ...over,
});

async function patient(patientId = 'patient-1', contact: { email?: string | null; phone?: string | null; timezone?: string; push?: boolean } = {}) {
  await db().contactPoint.create({ data: { patientId, email: contact.email === undefined ? 'an@example.com' : contact.email, phone: contact.phone === undefined ? '+84901234567' : contact.phone, timezone: contact.timezone ?? 'Asia/Ho_Chi_Minh', crmVersion: 1 } });
  if (contact.push) await db().pushSubscription.create({ data: { patientId, endpoint: `https://push.example/${patientId}`, p256dh: 'k', auth: 'a' } });
}

describe('notification-requests-consumer (notification-requests → notifications and delivery-due)', () => {
  let consumer: RunningFunction;
  let cron: RunningFunction;
  before(async () => { consumer = await startFunction(fn); cron = await startFunction(cronFn); });
  after(async () => { setIntakeClock(undefined); await consumer.close(); await cron.close(); });
  beforeEach(async () => { await resetDatabase(); setIntakeClock(MORNING); });

  const due = async () => (await published('notification-deliveries')).map((e) => e.data);
  const notices = () => db().notification.findMany({ include: { deliveries: true }, orderBy: { createdAt: 'asc' } });
  const minute = (now: Date | string) => call(cron.url, { method: 'POST', raw: JSON.stringify({ job: 'minute', now: new Date(now).toISOString() }), headers: { 'content-type': 'application/json' } });

  describe('channels', () => {
    it('by the policy when the patient set nothing: in-app, then SMS (appointment); the inbox item is written at once and the first external channel is queued and due', async () => {
      await patient();
      const res = await deliver(consumer.url, { type: REQUESTED, data: request() });
      assert.equal(res.status, 200);
      const [n] = await notices();
      assert.deepEqual([n.status, n.channels, n.patientId, n.critical], ['dispatched', ['in-app', 'sms', 'email'], 'patient-1', false]);
      assert.deepEqual(n.deliveries.map((d) => [d.channel, d.status]).sort(), [['in-app', 'delivered'], ['sms', 'queued']]);
      const item = await db().inboxItem.findUniqueOrThrow({ where: { notificationId: n.id } });
      assert.deepEqual([item.patientId, item.deliveryId], ['patient-1', n.deliveries.find((d) => d.channel === 'in-app')!.id]);
      const events = await due();
      assert.deepEqual(events.map((e) => e.channel), ['sms']);
      assert.ok(events.every((e) => e.notificationId === n.id && e.attempt === 1 && n.deliveries.some((d) => d.id === e.deliveryId)));
    });

    it('the category\'s preference wins over the patient\'s \'*\' one; a channel without a contact is left out', async () => {
      await patient('patient-1', { phone: null, push: true });
      await db().preference.createMany({ data: [
        { patientId: 'patient-1', category: '*', channels: ['email'] },
        { patientId: 'patient-1', category: 'results', channels: ['sms', 'push', 'email'] },
      ] });
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'r-appointment' }) });
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'r-results', template: 'results-ready', category: 'results', variables: { link: 'https://portal.example/results' } }) });
      const byRequest = Object.fromEntries((await notices()).map((n) => [n.requestId, n]));
      assert.deepEqual(byRequest['r-appointment'].channels, ['in-app', 'email']);
      assert.deepEqual(byRequest['r-results'].channels, ['in-app', 'push', 'email'], 'sms is wanted first but there is no phone');
      assert.deepEqual(byRequest['r-results'].deliveries.map((d) => d.channel).sort(), ['in-app', 'push']);
    });

    it('a patient with no usable external channel gets the inbox alone and is counted unreachable (the reason names no contact)', async () => {
      await patient('patient-1', { email: null, phone: null });
      await deliver(consumer.url, { type: REQUESTED, data: request() });
      const [n] = await notices();
      assert.deepEqual([n.status, n.channels, n.deliveries.map((d) => d.channel)], ['unreachable', ['in-app'], ['in-app']]);
      const [unreachable, ...more] = (await published('notification-events')).filter((e) => e.type === 'com.medlab.notification.unreachable').map((e) => e.data);
      assert.deepEqual(more, []);
      assert.deepEqual(unreachable, { notificationId: n.id, requestId: n.requestId, patientId: 'patient-1', template: 'appointment-confirmed', reason: 'no usable channel for appointment: sms (no phone number), email (no email address)' });
      assert.deepEqual(await due(), [], 'the inbox item is written with the notice: nothing for the sender');
      assert.equal(await db().inboxItem.count({ where: { notificationId: n.id } }), 1);
    });

    it('operators: email to the team of the policy, recorded without a patient', async () => {
      const res = await deliver(consumer.url, { type: REQUESTED, data: { requestId: 'dl-alert-1', template: 'dead-letter-alert', recipient: { kind: 'operators', team: 'platform' }, category: 'operations', variables: { severity: 'warning', kind: 'spike', summary: '20 letters', console: 'https://c', runbook: 'https://r' } } });
      assert.equal(res.status, 200);
      const [n] = await notices();
      assert.deepEqual([n.recipientKind, n.team, n.patientId, n.channels, n.status, n.deliveries.map((d) => d.channel)], ['operators', 'platform', null, ['email'], 'dispatched', ['email']]);
      const unknown = await deliver(consumer.url, { type: REQUESTED, data: { requestId: 'dl-alert-2', template: 'dead-letter-alert', recipient: { kind: 'operators', team: 'nobody' }, category: 'operations', variables: { severity: 'warning', kind: 'spike', summary: 's', console: 'c', runbook: 'r' } } });
      assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [422, 'data/recipient/team']);
    });
  });

  describe('when it goes', () => {
    it('a message at 23:00 local waits (pending, no delivery) until 07:00, when the cron sends it', async () => {
      await patient();
      setIntakeClock(LATE);
      const res = await deliver(consumer.url, { type: REQUESTED, data: request() });
      assert.deepEqual([res.status, res.body.result.status, res.body.result.sendAt, res.body.result.reason], [200, 'pending', NEXT_0700, 'quiet-hours']);
      assert.deepEqual((await notices())[0].deliveries, []);
      assert.deepEqual(await due(), []);
      assert.deepEqual((await minute('2026-12-08T23:59:00Z')).body.notifications.dispatched, 0);
      assert.deepEqual((await minute(NEXT_0700)).body.notifications.dispatched, 1);
      const [n] = await notices();
      assert.deepEqual([n.status, n.deliveries.length], ['dispatched', 2]);
      assert.equal((await due()).length, 1);
    });

    it('a patient\'s own quiet hours on their own clock: 23:00 in Ho Chi Minh City is 17:00 in Berlin', async () => {
      await patient('patient-1', { timezone: 'Europe/Berlin' });
      await patient('patient-2');
      await db().preference.create({ data: { patientId: 'patient-2', category: '*', channels: ['sms'], quietStart: '23:30', quietEnd: '06:00' } });
      setIntakeClock(LATE);
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'berlin' }) });
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'own-hours', recipient: { kind: 'patient', patientId: 'patient-2' } }) });
      assert.deepEqual((await notices()).map((n) => [n.requestId, n.status]).sort(), [['berlin', 'dispatched'], ['own-hours', 'dispatched']]);
    });

    it('critical goes now, quiet hours or not (the request says so, or its template is critical by nature)', async () => {
      await patient();
      setIntakeClock(LATE);
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'same-day-cancel', template: 'appointment-cancelled', critical: true }) });
      await deliver(consumer.url, { type: REQUESTED, data: request({ requestId: 'call-clinic', template: 'results-call-clinic', category: 'results', variables: { link: 'https://portal.example/results' } }) });
      const all = await notices();
      assert.deepEqual(all.map((n) => [n.requestId, n.status, n.critical]).sort(), [['call-clinic', 'dispatched', true], ['same-day-cancel', 'dispatched', true]]);
      assert.equal((await due()).length, 2);
    });

    it('variables.sendAt schedules it: pending until then, sent by the cron at that minute', async () => {
      await patient();
      const at = '2026-12-10T02:00:00.000Z';
      const res = await deliver(consumer.url, { type: REQUESTED, data: request({ variables: { ...visit, sendAt: at } }) });
      assert.deepEqual([res.body.result.status, res.body.result.sendAt, res.body.result.reason], ['pending', at, 'scheduled']);
      assert.equal((await minute('2026-12-10T01:59:00Z')).body.notifications.dispatched, 0);
      assert.equal((await minute(at)).body.notifications.dispatched, 1);
      assert.equal((await due()).length, 1);
      const bad = await deliver(consumer.url, { type: REQUESTED, data: request({ variables: { ...visit, sendAt: 'tomorrow' } }) });
      assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [422, 'data/variables/sendAt']);
    });
  });

  describe('refusals and repeats', () => {
    it('an unknown template, a missing variable, an unknown patient: 422 naming the field, nothing written', async () => {
      await patient();
      const cases: Array<[Record<string, unknown>, string]> = [
        [request({ template: 'no-such-template' }), 'data/template'],
        [request({ variables: { ...visit, localTime: undefined } }), 'data/variables/localTime'],
        [request({ recipient: { kind: 'patient', patientId: 'patient-unknown' } }), 'data/recipient/patientId'],
        [request({ recipient: { kind: 'patient' } }), 'data/recipient/patientId'],
      ];
      for (const [data, field] of cases) {
        const res = await deliver(consumer.url, { type: REQUESTED, data });
        assert.deepEqual([res.status, res.body['invalid-params']?.[0]?.name], [422, field]);
      }
      assert.equal(await db().notification.count(), 0);
      assert.equal(await db().delivery.count(), 0);
      assert.deepEqual(await due(), []);
    });

    it('the same request twice (another CloudEvent id) is one notification, sent once', async () => {
      await patient();
      const data = request({ requestId: 'appointment:evt-1' });
      const first = await deliver(consumer.url, { type: REQUESTED, data, id: 'ce-1' });
      const again = await deliver(consumer.url, { type: REQUESTED, data, id: 'ce-2' });
      assert.deepEqual([first.body.status, again.status, again.body.status], ['processed', 200, 'duplicate']);
      assert.equal(await db().notification.count(), 1);
      assert.equal((await due()).length, 1);
      assert.equal(await db().inboxItem.count(), 1);
    });
  });
});
