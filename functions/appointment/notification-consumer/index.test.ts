import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at } from '../../../test/support/clinic';

const A = '6f1c2a4e-8a57-4c1e-9d7e-0b6f3f0c1a22';
const visit = {
  appointmentId: A, patientId: 'patient-1', branchId: 'hcm-d1', visitTypeId: 'gp-consult',
  start: '2026-12-08T02:00:00.000Z', end: '2026-12-08T02:15:00.000Z', status: 'booked', paymentStatus: 'not-required',
};
const type = (t: string) => `com.medlab.appointment.${t}`;

describe('appointment-notification-consumer (appointment-events → notification-requests)', () => {
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(async () => consumer.close());
  beforeEach(resetDatabase);

  const requests = async () => (await published('notification-requests')).map((e) => ({ key: e.key, ...e.data }));

  it('a booked visit is confirmed to its patient; one awaiting payment asks them to pay', async () => {
    assert.equal((await deliver(consumer.url, { type: type('booked'), data: { ...visit, resourceIds: [] } })).status, 200);
    assert.equal((await deliver(consumer.url, { type: type('booked'), data: { ...visit, appointmentId: '7f1c2a4e-8a57-4c1e-9d7e-0b6f3f0c1a22', status: 'pending', paymentStatus: 'awaiting', resourceIds: [], holdExpiresAt: '2026-12-07T10:30:00.000Z' } })).status, 200);
    // Two visits' requests have two keys, so two partitions: found by template, not by order.
    const all = await requests();
    assert.equal(all.length, 2);
    const confirmed = all.find((r) => r.template === 'appointment-confirmed')!;
    const awaiting = all.find((r) => r.template === 'appointment-awaiting-payment')!;
    assert.deepEqual([confirmed.template, confirmed.recipient, confirmed.category, confirmed.critical], ['appointment-confirmed', { kind: 'patient', patientId: 'patient-1' }, 'appointment', false]);
    assert.deepEqual([confirmed.variables.appointmentId, confirmed.variables.start, confirmed.variables.localTime, confirmed.variables.link], [A, visit.start, '09:00', `/appointments/${A}`]);
    assert.equal(confirmed.key, confirmed.requestId);
    assert.deepEqual([awaiting.template, awaiting.variables.payBy], ['appointment-awaiting-payment', '2026-12-07T10:30:00.000Z']);
  });

  it('a change reads in the patient\'s own zone and language (from their appointment)', async () => {
    await seedClinic();
    const a = await createAppointment({ start: at(2, '09:00'), patientTimezone: 'Europe/Berlin', language: 'en' });
    const res = await deliver(consumer.url, { type: type('changed'), data: { ...visit, appointmentId: a.id, start: a.startsAt.toISOString(), end: a.endsAt.toISOString(), change: 'rescheduled', previousStart: at(1, '09:00').toISOString() } });
    assert.equal(res.status, 200);
    const [changed] = await requests();
    assert.deepEqual([changed.template, changed.variables.change, changed.variables.localTime, changed.variables.timezone, changed.variables.language], ['appointment-changed', 'rescheduled', '03:00', 'Europe/Berlin', 'en']);
  });

  it('a same-day cancellation is critical (it reaches the patient whatever the hour); one days ahead is not', async () => {
    const cancelled = { ...visit, status: 'cancelled', reason: 'clinic', cancelledBy: 'staff' };
    await deliver(consumer.url, { type: type('cancelled'), data: { ...cancelled, sameDay: true } });
    await deliver(consumer.url, { type: type('cancelled'), data: { ...cancelled, appointmentId: '7f1c2a4e-8a57-4c1e-9d7e-0b6f3f0c1a22', sameDay: false } });
    const notices = await requests();
    assert.deepEqual(notices.map((n) => [n.variables.appointmentId, n.template, n.critical, n.variables.reason]).sort(),
      [[A, 'appointment-cancelled', true, 'clinic'], ['7f1c2a4e-8a57-4c1e-9d7e-0b6f3f0c1a22', 'appointment-cancelled', false, 'clinic']]);
  });

  it('a lapsed hold tells nothing; a lapsed payment says so', async () => {
    const cancelled = { ...visit, status: 'cancelled', cancelledBy: 'cron', sameDay: false };
    const hold = await deliver(consumer.url, { type: type('cancelled'), data: { ...cancelled, reason: 'hold-expired' } });
    assert.deepEqual([hold.status, hold.body.result], [200, { ignored: true }]);
    await deliver(consumer.url, { type: type('cancelled'), data: { ...cancelled, reason: 'payment-expired' } });
    assert.deepEqual((await requests()).map((n) => n.template), ['appointment-payment-expired']);
  });

  it('a redelivered event asks once, whether the consumer remembers it or the notification system keeps its requestId', async () => {
    const event = { id: 'evt-reminder-1', source: '/appointment/appointment-cron', type: type('reminder-due'), data: { ...visit, reminder: '24h', patientTimezone: 'Asia/Ho_Chi_Minh', language: 'vi' } };
    const first = await deliver(consumer.url, event);
    const again = await deliver(consumer.url, event);
    assert.deepEqual([first.status, first.body.status, again.status, again.body.status], [200, 'processed', 200, 'duplicate']);
    const [reminder, ...more] = await requests();
    assert.deepEqual(more, []);
    assert.deepEqual([reminder.template, reminder.requestId, reminder.variables.reminder, reminder.variables.weekday], ['appointment-reminder', 'appointment:evt-reminder-1', '24h', 'Thứ Ba']);
    // The same event delivered after its inbox row is gone (a redrive months later) carries the same requestId.
    await resetDatabase();
    await deliver(consumer.url, event);
    assert.deepEqual((await requests()).map((n) => n.requestId), ['appointment:evt-reminder-1']);
  });

  it('events that tell the patient nothing are answered 200 and ignored, never dead-lettered', async () => {
    const others: Array<[string, Record<string, unknown>]> = [
      ['held', { ...visit, status: 'proposed', holdExpiresAt: '2026-12-07T10:30:00.000Z' }],
      ['status-changed', { ...visit, status: 'arrived', previousStatus: 'booked' }],
      ['payment-changed', { ...visit, orderId: 'pos-1', orderStatus: 'paid' }],
      ['sample-status-changed', { ...visit, accession: 'ACC-1', sampleStatus: 'rejected', rejectReason: 'RH', recollectionStart: null }],
    ];
    for (const [t, data] of others) {
      const res = await deliver(consumer.url, { type: type(t), data });
      assert.deepEqual([t, res.status, res.body.result], [t, 200, { ignored: true }]);
    }
    const summary = await deliver(consumer.url, { type: 'com.medlab.checkup.scheduled', data: { requestId: 'req-1', companyId: 'acme', scheduled: 3, unplaced: [] } });
    assert.equal(summary.status, 200);
    assert.deepEqual(await requests(), []);
  });

  it('an event that breaks its contract is refused (400: to the dead-letter sink with the reason)', async () => {
    const res = await deliver(consumer.url, { type: type('reminder-due'), data: { ...visit, reminder: '1h', patientTimezone: 'Asia/Ho_Chi_Minh', language: 'vi' } });
    assert.equal(res.status, 400);
    assert.deepEqual(await requests(), []);
  });
});
