import { strict as assert } from 'node:assert';
import { bookedNotice, cancelledNotice, changedNotice, reminderNotice } from './templates';

const visit = {
  appointmentId: '6f1c2a4e-8a57-4c1e-9d7e-0b6f3f0c1a22', patientId: 'patient-1', branchId: 'hcm-d1', visitTypeId: 'gp-consult',
  start: '2026-12-08T02:00:00.000Z', end: '2026-12-08T02:15:00.000Z', status: 'booked', paymentStatus: 'not-required',
} as const;
const hcm = { timezone: 'Asia/Ho_Chi_Minh', language: 'vi' };

describe('appointment notices (no database)', () => {
  it('a booked visit is confirmed; one awaiting payment asks to pay by its deadline', () => {
    const confirmed = bookedNotice({ ...visit, resourceIds: [] }, hcm)!;
    assert.equal(confirmed.template, 'appointment-confirmed');
    assert.deepEqual(confirmed.variables, {
      appointmentId: visit.appointmentId, branchId: 'hcm-d1', visitTypeId: 'gp-consult', start: visit.start,
      localDate: '2026-12-08', localTime: '09:00', weekday: 'Thứ Ba', timezone: 'Asia/Ho_Chi_Minh', language: 'vi', link: `/appointments/${visit.appointmentId}`,
    });
    const awaiting = bookedNotice({ ...visit, status: 'pending', paymentStatus: 'awaiting', resourceIds: [], holdExpiresAt: '2026-12-07T10:30:00.000Z' }, hcm)!;
    assert.deepEqual([awaiting.template, awaiting.variables.payBy], ['appointment-awaiting-payment', '2026-12-07T10:30:00.000Z']);
    assert.equal(bookedNotice({ ...visit, status: 'proposed', resourceIds: [] }, hcm), undefined);
  });

  it('a change says what changed and when it was before', () => {
    const changed = changedNotice({ ...visit, change: 'rescheduled', previousStart: '2026-12-07T02:00:00.000Z' }, hcm);
    assert.deepEqual([changed.template, changed.variables.change, changed.variables.previousStart, changed.critical], ['appointment-changed', 'rescheduled', '2026-12-07T02:00:00.000Z', false]);
  });

  it('a same-day cancellation is critical (it passes quiet hours); a lapsed hold tells nothing; a lapsed payment has its own template', () => {
    const cancelled = { ...visit, status: 'cancelled', reason: 'clinic', cancelledBy: 'staff' } as const;
    assert.deepEqual([cancelledNotice({ ...cancelled, sameDay: true }, hcm)!.template, cancelledNotice({ ...cancelled, sameDay: true }, hcm)!.critical], ['appointment-cancelled', true]);
    assert.equal(cancelledNotice({ ...cancelled, sameDay: false }, hcm)!.critical, false);
    assert.equal(cancelledNotice(cancelled, hcm)!.critical, false);
    assert.equal(cancelledNotice({ ...cancelled, reason: 'hold-expired', cancelledBy: 'cron' }, hcm), undefined);
    assert.equal(cancelledNotice({ ...cancelled, reason: 'payment-expired', cancelledBy: 'cron' }, hcm)!.template, 'appointment-payment-expired');
  });

  it('a reminder reads in the zone and language the event carries, with no name or contact in it', () => {
    const notice = reminderNotice({ ...visit, reminder: '2h', patientTimezone: 'Europe/Berlin', language: 'en' });
    assert.equal(notice.template, 'appointment-reminder');
    assert.deepEqual([notice.variables.reminder, notice.variables.localTime, notice.variables.weekday], ['2h', '03:00', 'Tuesday']);
    assert.deepEqual(Object.keys(notice.variables).sort(), ['appointmentId', 'branchId', 'language', 'link', 'localDate', 'localTime', 'reminder', 'start', 'timezone', 'visitTypeId', 'weekday']);
  });
});
