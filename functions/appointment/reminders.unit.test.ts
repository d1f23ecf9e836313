import { strict as assert } from 'node:assert';
import { localWhen, reminderDue, type RemindedVisit } from './reminders';

const t = (local: string) => new Date(`${local}:00+07:00`);
// A visit at 09:00 on Tuesday 2026-12-08 in Ho Chi Minh City, booked a week ahead.
const visit = (extra: Partial<RemindedVisit> = {}): RemindedVisit =>
  ({ status: 'booked', startsAt: t('2026-12-08T09:00'), createdAt: t('2026-12-01T10:00'), reminded24hAt: null, reminded2hAt: null, ...extra });

describe('reminder rules (no database)', () => {
  it('the 24 h reminder is due from 09:00 the day before a 09:00 visit, not a minute earlier', () => {
    assert.equal(reminderDue(visit(), t('2026-12-07T08:59')), undefined);
    assert.equal(reminderDue(visit(), t('2026-12-07T09:00')), '24h');
    assert.equal(reminderDue(visit(), t('2026-12-08T06:59')), '24h', 'late (the cron was down) but still before the 2 h one');
    assert.equal(reminderDue(visit({ reminded24hAt: t('2026-12-07T09:00') }), t('2026-12-07T09:01')), undefined, 'once');
  });

  it('the 2 h reminder is due from 07:00 while the visit is ahead; the 24 h one never after it', () => {
    assert.equal(reminderDue(visit(), t('2026-12-08T07:00')), '2h');
    assert.equal(reminderDue(visit({ reminded24hAt: t('2026-12-07T09:00') }), t('2026-12-08T08:59')), '2h');
    assert.equal(reminderDue(visit({ reminded2hAt: t('2026-12-08T07:00') }), t('2026-12-08T07:01')), undefined);
    assert.equal(reminderDue(visit({ reminded2hAt: t('2026-12-08T07:00') }), t('2026-12-07T12:00')), undefined, 'no 24 h once the 2 h went');
    assert.equal(reminderDue(visit(), t('2026-12-08T09:00')), undefined, 'the visit has begun');
  });

  it('a visit booked less than a reminder\'s lead before it starts skips that reminder (the confirmation told them)', () => {
    assert.equal(reminderDue(visit({ createdAt: t('2026-12-07T12:00') }), t('2026-12-07T12:01')), undefined);
    assert.equal(reminderDue(visit({ createdAt: t('2026-12-07T12:00') }), t('2026-12-08T07:00')), '2h');
    assert.equal(reminderDue(visit({ createdAt: t('2026-12-08T08:00') }), t('2026-12-08T08:01')), undefined);
  });

  it('only booked visits are reminded', () => {
    for (const status of ['proposed', 'pending', 'arrived', 'cancelled', 'noshow']) assert.equal(reminderDue(visit({ status }), t('2026-12-07T09:00')), undefined, status);
  });

  it('a visit reads in the patient\'s own zone and language: 09:00 in Ho Chi Minh City is 03:00 in Berlin', () => {
    const start = t('2026-12-08T09:00');
    assert.deepEqual(localWhen(start, 'Asia/Ho_Chi_Minh', 'vi'), { localDate: '2026-12-08', localTime: '09:00', weekday: 'Thứ Ba', timezone: 'Asia/Ho_Chi_Minh', language: 'vi' });
    assert.deepEqual(localWhen(start.toISOString(), 'Europe/Berlin', 'en'), { localDate: '2026-12-08', localTime: '03:00', weekday: 'Tuesday', timezone: 'Europe/Berlin', language: 'en' });
    assert.deepEqual(localWhen(t('2026-12-08T06:30'), 'America/New_York', 'en'), { localDate: '2026-12-07', localTime: '18:30', weekday: 'Monday', timezone: 'America/New_York', language: 'en' }, 'the day before, over there');
  });

  it('an unknown zone or language reads as the clinics\' (Ho Chi Minh City, Vietnamese) rather than failing', () => {
    const when = localWhen(t('2026-12-08T09:00'), 'Mars/Olympus', 'fr');
    assert.deepEqual([when.localTime, when.timezone, when.language], ['09:00', 'Asia/Ho_Chi_Minh', 'vi']);
  });
});
