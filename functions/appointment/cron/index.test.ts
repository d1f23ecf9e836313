import { strict as assert } from 'node:assert';
import * as fn from './index';
import * as notifier from '../notification-consumer/index';
import { db } from '../../shared/db';
import { startFunction, call, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at } from '../../../test/support/clinic';

const DAY = 86_400_000;
const plusMinutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000);

describe('appointment-cron (PingSources every minute and every night)', () => {
  let cron: RunningFunction;
  let consumer: RunningFunction;
  before(async () => { cron = await startFunction(fn); consumer = await startFunction(notifier); });
  after(async () => { await cron.close(); await consumer.close(); });
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  /** What the PingSource sends, run as if at `now` (outside production a ping may say the instant). */
  const ping = (job: 'minute' | 'daily' | string, now: Date) => call(cron.url, {
    method: 'POST', raw: JSON.stringify({ job, now: now.toISOString() }),
    headers: { 'ce-specversion': '1.0', 'ce-id': crypto.randomUUID(), 'ce-source': '/apis/v1/namespaces/patient-portal/pingsources/appointment-cron-minute', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' },
  });
  const events = async (type: string) => (await published('appointment-events')).filter((e) => e.type === `com.medlab.appointment.${type}`).map((e) => e.data);
  const visit = (id: string) => db().appointment.findUniqueOrThrow({ where: { id } });
  const holdings = (id: string) => db().resourceBooking.findMany({ where: { appointmentId: id, releasedAt: null } });
  /** Passes the appointment events published so far to the notification consumer, as its KafkaSource would. */
  const notify = async (type: string) => {
    for (const data of await events(type)) assert.equal((await deliver(consumer.url, { type: `com.medlab.appointment.${type}`, data })).status, 200);
    return (await published('notification-requests')).map((e) => e.data);
  };

  describe('reminders', () => {
    it('a visit at 09:00 tomorrow is reminded at 09:00 today, once, at 09:00 for a patient in Ho Chi Minh City and 03:00 for one in Berlin', async () => {
      const bookedLongAgo = at(-3, '10:00');
      const hcm = await createAppointment({ start: at(1, '09:00'), patientId: 'patient-hcm', createdAt: bookedLongAgo });
      const berlin = await createAppointment({ start: at(1, '09:00'), patientId: 'patient-berlin', patientTimezone: 'Europe/Berlin', language: 'en', createdAt: bookedLongAgo });

      const early = await ping('minute', at(0, '08:59'));
      assert.equal(early.status, 200);
      assert.deepEqual(early.body.reminders, { '24h': 0, '2h': 0 });
      assert.deepEqual(await events('reminder-due'), []);

      const due = await ping('minute', at(0, '09:00'));
      assert.deepEqual(due.body.reminders, { '24h': 2, '2h': 0 });
      const again = await ping('minute', at(0, '09:01'));
      assert.deepEqual(again.body.reminders, { '24h': 0, '2h': 0 }, 'a second run reminds nobody again');

      const reminders = await events('reminder-due');
      assert.deepEqual(reminders.map((r) => [r.appointmentId, r.reminder, r.patientTimezone, r.language]).sort(), [
        [hcm.id, '24h', 'Asia/Ho_Chi_Minh', 'vi'],
        [berlin.id, '24h', 'Europe/Berlin', 'en'],
      ].sort());
      assert.ok(reminders.every((r) => r.start === at(1, '09:00').toISOString() && r.status === 'booked'));

      const requests = await notify('reminder-due');
      const byPatient = Object.fromEntries(requests.map((r) => [r.recipient.patientId, r]));
      assert.equal(requests.length, 2);
      const tomorrow = at(1, '09:00');
      assert.equal(byPatient['patient-hcm'].template, 'appointment-reminder');
      assert.deepEqual(
        [byPatient['patient-hcm'].variables.localTime, byPatient['patient-hcm'].variables.localDate, byPatient['patient-hcm'].variables.reminder, byPatient['patient-hcm'].variables.language],
        ['09:00', new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(tomorrow), '24h', 'vi'],
      );
      assert.deepEqual(
        [byPatient['patient-berlin'].variables.localTime, byPatient['patient-berlin'].variables.localDate, byPatient['patient-berlin'].variables.timezone, byPatient['patient-berlin'].variables.language],
        ['03:00', new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(tomorrow), 'Europe/Berlin', 'en'],
      );
      assert.equal(byPatient['patient-berlin'].variables.weekday, new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long' }).format(tomorrow));
    });

    it('the 2 h reminder goes at 07:00 for a 09:00 visit, once; the 24 h one is never sent after it', async () => {
      const a = await createAppointment({ start: at(1, '09:00'), createdAt: at(-3, '10:00') });
      // The cron was down all of yesterday: its first run is when the 2 h reminder is due.
      assert.deepEqual((await ping('minute', at(1, '06:59'))).body.reminders, { '24h': 1, '2h': 0 }, 'still 2 h away: the late 24 h one goes');
      assert.deepEqual((await ping('minute', at(1, '07:00'))).body.reminders, { '24h': 0, '2h': 1 });
      assert.deepEqual((await ping('minute', at(1, '07:30'))).body.reminders, { '24h': 0, '2h': 0 });
      assert.deepEqual((await events('reminder-due')).map((r) => r.reminder), ['24h', '2h']);
      const after = await visit(a.id);
      assert.ok(after.reminded24hAt && after.reminded2hAt);
    });

    it('a visit first seen when its 2 h reminder is due gets only that one', async () => {
      await createAppointment({ start: at(1, '09:00'), createdAt: at(-3, '10:00') });
      assert.deepEqual((await ping('minute', at(1, '07:15'))).body.reminders, { '24h': 0, '2h': 1 });
      assert.deepEqual((await ping('minute', at(1, '07:16'))).body.reminders, { '24h': 0, '2h': 0 });
      assert.deepEqual((await events('reminder-due')).map((r) => r.reminder), ['2h']);
    });

    it('a visit booked less than 24 h ahead gets no 24 h reminder (the confirmation was enough), but its 2 h one', async () => {
      await createAppointment({ start: at(1, '10:00'), createdAt: at(0, '12:00') });
      assert.deepEqual((await ping('minute', at(0, '12:01'))).body.reminders, { '24h': 0, '2h': 0 });
      assert.deepEqual((await ping('minute', at(1, '08:00'))).body.reminders, { '24h': 0, '2h': 1 });
    });

    it('only booked visits are reminded (not pending or arrived ones), and none once the visit has started', async () => {
      const booked = await createAppointment({ start: at(1, '09:00'), createdAt: at(-3, '10:00') });
      await createAppointment({ start: at(1, '10:00'), createdAt: at(-3, '10:00'), status: 'pending', visitTypeId: 'cardio-paid', paymentStatus: 'awaiting', holdExpiresAt: at(3, '10:00') });
      await createAppointment({ start: at(1, '10:00'), createdAt: at(-3, '10:00'), status: 'arrived' });
      assert.deepEqual((await ping('minute', at(0, '10:00'))).body.reminders, { '24h': 1, '2h': 0 });
      assert.deepEqual((await events('reminder-due')).map((r) => r.appointmentId), [booked.id]);
      // The cron was down from then until the visit began: too late for the 2 h reminder.
      assert.deepEqual((await ping('minute', at(1, '09:00'))).body.reminders, { '24h': 0, '2h': 0 });
      assert.equal((await visit(booked.id)).reminded2hAt, null);
    });

    it('two runs at the same minute remind each visit once', async () => {
      for (const [i, time] of ['09:00', '09:15', '09:30', '09:45', '10:00'].entries()) await createAppointment({ start: at(1, time), patientId: `patient-${i}`, createdAt: at(-3, '10:00') });
      const [one, two] = await Promise.all([ping('minute', at(0, '10:00')), ping('minute', at(0, '10:00'))]);
      assert.equal(one.body.reminders['24h'] + two.body.reminders['24h'], 5);
      const reminders = await events('reminder-due');
      assert.equal(reminders.length, 5);
      assert.equal(new Set(reminders.map((r) => r.appointmentId)).size, 5);
    });
  });

  describe('no-shows', () => {
    it('a visit still booked 30 minutes after its start becomes noshow, its resources freed; an arrived one stays', async () => {
      const absent = await createAppointment({ start: at(1, '09:00'), patientId: 'patient-absent' });
      const present = await createAppointment({ start: at(1, '09:00'), patientId: 'patient-present', status: 'arrived' });

      assert.equal((await ping('minute', at(1, '09:29'))).body.noshows, 0, 'still within the grace period');
      assert.equal((await visit(absent.id)).status, 'booked');

      assert.equal((await ping('minute', at(1, '09:30'))).body.noshows, 1);
      assert.equal((await visit(absent.id)).status, 'noshow');
      assert.deepEqual(await holdings(absent.id), []);
      assert.equal((await visit(present.id)).status, 'arrived');
      assert.equal((await holdings(present.id)).length, 2);
      const [changed, ...more] = await events('status-changed');
      assert.deepEqual(more, []);
      assert.deepEqual([changed.appointmentId, changed.previousStatus, changed.status], [absent.id, 'booked', 'noshow']);
      const timeline = await db().timelineEntry.findMany({ where: { appointmentId: absent.id } });
      assert.deepEqual(timeline.map((t) => [t.kind, t.by, t.at.toISOString()]), [['noshow', 'cron', at(1, '09:30').toISOString()]]);

      assert.equal((await ping('minute', at(1, '09:31'))).body.noshows, 0);
      assert.equal((await events('status-changed')).length, 1);
      // The practitioner and room it held are free again: a walk-in can take its place.
      await createAppointment({ start: at(1, '09:00'), patientId: 'patient-walk-in', visitTypeId: 'gp-consult' });
    });
  });

  describe('lapsed holds', () => {
    it('a hold not confirmed in time is cancelled (hold-expired), its resources go to the next patient, and nobody is told', async () => {
      // An annual check-up needs the clinic's only ECG: while the hold stands, nobody else can have that time.
      const hold = await createAppointment({ start: at(1, '10:00'), visitTypeId: 'annual-checkup', status: 'proposed', holdExpiresAt: at(0, '20:05') });
      await assert.rejects(createAppointment({ start: at(1, '10:00'), visitTypeId: 'annual-checkup', patientId: 'patient-2' }), /taken/);

      assert.deepEqual((await ping('minute', at(0, '20:04'))).body.expired, { holdExpired: 0, paymentExpired: 0 });
      assert.deepEqual((await ping('minute', at(0, '20:05'))).body.expired, { holdExpired: 1, paymentExpired: 0 });
      const after = await visit(hold.id);
      assert.deepEqual([after.status, after.cancelReason], ['cancelled', 'hold-expired']);
      assert.deepEqual(await holdings(hold.id), []);
      const [cancelled, ...more] = await events('cancelled');
      assert.deepEqual(more, []);
      assert.deepEqual([cancelled.appointmentId, cancelled.reason, cancelled.cancelledBy, cancelled.sameDay], [hold.id, 'hold-expired', 'cron', true]);
      const timeline = await db().timelineEntry.findMany({ where: { appointmentId: hold.id } });
      assert.deepEqual(timeline.map((t) => [t.kind, t.by, (t.detail as { reason: string }).reason]), [['cancelled', 'cron', 'hold-expired']]);

      const next = await createAppointment({ start: at(1, '10:00'), visitTypeId: 'annual-checkup', patientId: 'patient-2' });
      assert.equal(next.status, 'booked');
      assert.deepEqual((await ping('minute', at(0, '20:06'))).body.expired, { holdExpired: 0, paymentExpired: 0 });
      assert.deepEqual(await notify('cancelled'), [], 'a hold the patient walked away from needs no notice');
    });

    it('a booking awaiting payment past its deadline is cancelled (payment-expired), its resources go to the next patient, and the patient is told', async () => {
      const unpaid = await createAppointment({ start: at(2, '10:00'), visitTypeId: 'cardio-paid', status: 'pending', paymentStatus: 'awaiting', holdExpiresAt: at(0, '20:30') });
      const proposed = await createAppointment({ start: at(2, '11:00'), visitTypeId: 'cardio-paid', status: 'proposed', holdExpiresAt: at(0, '20:40') });
      await assert.rejects(createAppointment({ start: at(2, '10:00'), visitTypeId: 'cardio-paid', patientId: 'patient-2' }), /taken/);

      assert.deepEqual((await ping('minute', at(0, '20:30'))).body.expired, { holdExpired: 0, paymentExpired: 1 });
      const after = await visit(unpaid.id);
      assert.deepEqual([after.status, after.cancelReason], ['cancelled', 'payment-expired']);
      assert.deepEqual(await holdings(unpaid.id), []);
      assert.equal((await visit(proposed.id)).status, 'proposed', 'a hold whose time has not come stays');
      const [cancelled] = await events('cancelled');
      assert.deepEqual([cancelled.reason, cancelled.cancelledBy, cancelled.sameDay], ['payment-expired', 'cron', false]);

      await createAppointment({ start: at(2, '10:00'), visitTypeId: 'cardio-paid', patientId: 'patient-2' });
      const [notice, ...more] = await notify('cancelled');
      assert.deepEqual(more, []);
      assert.deepEqual([notice.template, notice.recipient, notice.critical], ['appointment-payment-expired', { kind: 'patient', patientId: 'patient-1' }, false]);
    });
  });

  describe('every night', () => {
    it('removes inbox rows and HL7 ids older than 30 days, idempotency records older than 2, and holds lapsed more than 7 days ago with their rows', async () => {
      const now = at(0, '03:30');
      const daysBefore = (d: number) => new Date(now.getTime() - d * DAY);
      await db().appointmentInboxEvent.createMany({ data: [
        { consumer: 'c', source: '/s', id: 'old', type: 't', processedAt: daysBefore(31) },
        { consumer: 'c', source: '/s', id: 'recent', type: 't', processedAt: daysBefore(29) },
      ] });
      await db().hl7Message.createMany({ data: [
        { sender: 'LIS', controlId: 'old', type: 'ORL^O22', receivedAt: daysBefore(31) },
        { sender: 'LIS', controlId: 'recent', type: 'ORL^O22', receivedAt: daysBefore(29) },
      ] });
      await db().appointmentIdempotencyRecord.createMany({ data: [
        { scope: 'book', caller: 'patient-1', key: 'old', fingerprint: 'f', status: 201, headers: {}, createdAt: daysBefore(3) },
        { scope: 'book', caller: 'patient-1', key: 'recent', fingerprint: 'f', status: 201, headers: {}, createdAt: daysBefore(1) },
      ] });
      const longLapsed = await createAppointment({ start: at(-8, '10:00'), status: 'proposed', holdExpiresAt: daysBefore(8) });
      const lapsed = await createAppointment({ start: at(-6, '10:00'), status: 'proposed', holdExpiresAt: daysBefore(6) });
      const unpaid = await createAppointment({ start: at(-8, '11:00'), status: 'pending', paymentStatus: 'awaiting', holdExpiresAt: daysBefore(8), visitTypeId: 'cardio-paid' });
      const visited = await createAppointment({ start: at(-9, '10:00') });
      await ping('minute', plusMinutes(daysBefore(6), 1));
      assert.deepEqual((await db().appointment.findMany({ where: { status: 'cancelled' }, select: { id: true } })).map((a) => a.id).sort(), [longLapsed.id, lapsed.id, unpaid.id].sort());

      const res = await ping('daily', now);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.removed, { inbox: 1, hl7Messages: 1, idempotencyRecords: 1, expiredHolds: 1 });
      assert.deepEqual((await db().appointmentInboxEvent.findMany()).map((r) => r.id), ['recent']);
      assert.deepEqual((await db().hl7Message.findMany()).map((r) => r.controlId), ['recent']);
      assert.deepEqual((await db().appointmentIdempotencyRecord.findMany()).map((r) => r.key), ['recent']);
      const left = (await db().appointment.findMany({ select: { id: true } })).map((a) => a.id).sort();
      assert.deepEqual(left, [lapsed.id, unpaid.id, visited.id].sort(), 'a recent lapse, a payment that lapsed and a real visit stay');
      assert.equal(await db().timelineEntry.count({ where: { appointmentId: longLapsed.id } }), 0, 'its timeline went with it');
      assert.equal(await db().resourceBooking.count({ where: { appointmentId: longLapsed.id } }), 0, 'and its holdings');

      assert.deepEqual((await ping('daily', now)).body.removed, { inbox: 0, hl7Messages: 0, idempotencyRecords: 0, expiredHolds: 0 });
    });
  });

  it('a hand-run POST with no body runs the minute job on the clock; an unknown job is refused naming the field', async () => {
    const res = await call(cron.url, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(res.body.job, 'minute');
    const weekly = await ping('weekly', at(0, '09:00'));
    assert.equal(weekly.status, 400);
    assert.equal(weekly.body['invalid-params'][0].name, 'body/job');
  });

  it('in production a ping cannot set the instant: the cron keeps its own clock', async () => {
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const res = await ping('minute', at(5, '09:00'));
      assert.equal(res.status, 400);
      assert.equal(res.body['invalid-params'][0].name, 'body/now');
    } finally {
      process.env.NODE_ENV = env;
    }
  });
});
