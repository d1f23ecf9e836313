import { strict as assert } from 'node:assert';
import { assign, findSlots, freeIntervals, merge, subtract, workingIntervals, type ResourceCalendar } from './schedule';

const ZONE = 'Asia/Ho_Chi_Minh';
const t = (local: string) => Date.parse(`${local}:00+07:00`);
const hhmm = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(11, 16);
const WEEKDAYS = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, [['08:00', '12:00'], ['13:00', '17:00']]])) as ResourceCalendar['hours'];

const resource = (id: string, kind: ResourceCalendar['kind'], capabilities: string[], extra: Partial<ResourceCalendar> = {}): ResourceCalendar =>
  ({ id, kind, capabilities, timezone: ZONE, hours: WEEKDAYS, exceptions: [], busy: [], ...extra });

describe('scheduling maths (no database)', () => {
  // 2026-12-07 is a Monday; 2026-12-12 a Saturday.
  it('merge and subtract keep half-open intervals apart', () => {
    assert.deepEqual(merge([{ start: 5, end: 8 }, { start: 1, end: 3 }, { start: 3, end: 4 }]), [{ start: 1, end: 4 }, { start: 5, end: 8 }]);
    assert.deepEqual(subtract([{ start: 0, end: 10 }], [{ start: 2, end: 3 }, { start: 8, end: 12 }]), [{ start: 0, end: 2 }, { start: 3, end: 8 }]);
  });

  it('weekly hours are wall-clock times in the resource zone, lunch is a break, the weekend is closed', () => {
    const day = workingIntervals(resource('r', 'room', []), t('2026-12-07T00:00'), t('2026-12-08T00:00'));
    assert.deepEqual(day.map((i) => [hhmm(i.start), hhmm(i.end)]), [['08:00', '12:00'], ['13:00', '17:00']]);
    assert.deepEqual(workingIntervals(resource('r', 'room', []), t('2026-12-12T00:00'), t('2026-12-14T00:00')), []);
  });

  it('a closed exception (leave) takes time out; an open one (a Saturday clinic) adds it', () => {
    const onLeave = resource('r', 'practitioner', [], { exceptions: [{ kind: 'closed', start: t('2026-12-07T10:00'), end: t('2026-12-07T14:00') }] });
    assert.deepEqual(workingIntervals(onLeave, t('2026-12-07T00:00'), t('2026-12-08T00:00')).map((i) => [hhmm(i.start), hhmm(i.end)]), [['08:00', '10:00'], ['14:00', '17:00']]);
    const saturday = resource('r', 'practitioner', [], { exceptions: [{ kind: 'open', start: t('2026-12-12T08:00'), end: t('2026-12-12T11:00') }] });
    assert.deepEqual(workingIntervals(saturday, t('2026-12-12T00:00'), t('2026-12-13T00:00')).map((i) => [hhmm(i.start), hhmm(i.end)]), [['08:00', '11:00']]);
  });

  it('free time is working time minus bookings', () => {
    const busy = resource('r', 'device', ['ecg'], { busy: [{ start: t('2026-12-07T09:00'), end: t('2026-12-07T09:30') }] });
    assert.deepEqual(freeIntervals(busy, t('2026-12-07T08:00'), t('2026-12-07T12:00')).map((i) => [hhmm(i.start), hhmm(i.end)]), [['08:00', '09:00'], ['09:30', '12:00']]);
  });

  it('a check-up starts only where a doctor, a room and an ECG are all free for its whole length', () => {
    const doctor = resource('doc', 'practitioner', ['general-practice'], { busy: [{ start: t('2026-12-07T08:00'), end: t('2026-12-07T08:30') }] });
    const room = resource('room', 'room', ['exam']);
    const ecg = resource('ecg', 'device', ['ecg'], { hours: { 1: [['08:00', '09:15']] } });
    const slots = findSlots({
      requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }, { kind: 'device', capability: 'ecg' }],
      resources: [doctor, room, ecg], durationMinutes: 30, from: t('2026-12-07T00:00'), to: t('2026-12-08T00:00'),
    });
    // The doctor is busy until 08:30 and the ECG stops at 09:15: 08:30 and 08:45 fit, 09:00 would overrun.
    assert.deepEqual(slots.map((s) => hhmm(s.start)), ['08:30', '08:45']);
    assert.deepEqual(slots[0].resourceIds, ['doc', 'room', 'ecg']);
  });

  it('one resource serves one need: two doctors are needed, the cardiologist is kept for the cardiology need', () => {
    const gp = resource('gp', 'practitioner', ['general-practice']);
    const cardio = resource('cardio', 'practitioner', ['general-practice', 'cardiology']);
    const free = new Map([gp, cardio].map((r) => [r.id, { resource: r, free: freeIntervals(r, t('2026-12-07T08:00'), t('2026-12-07T12:00')) }]));
    assert.deepEqual(assign([{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'practitioner', capability: 'cardiology' }], free, t('2026-12-07T08:00'), t('2026-12-07T08:30')), ['gp', 'cardio']);
    // Backtracking: with the cardiologist tried first for the general need, the search still finds the pair.
    const reversed = new Map([...free].reverse());
    assert.deepEqual(assign([{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'practitioner', capability: 'cardiology' }], reversed, t('2026-12-07T08:00'), t('2026-12-07T08:30')), ['gp', 'cardio']);
    assert.equal(assign([{ kind: 'practitioner' }, { kind: 'practitioner' }, { kind: 'practitioner' }], free, t('2026-12-07T08:00'), t('2026-12-07T08:30')), undefined);
  });

  it('a zone with daylight saving keeps its wall-clock hours across the change', () => {
    const berlin = resource('r', 'room', [], { timezone: 'Europe/Berlin', hours: { 7: [['09:00', '10:00']] } });
    // 2026-03-29 is the Sunday Berlin moves from +01:00 to +02:00.
    const [spring] = workingIntervals(berlin, Date.parse('2026-03-29T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z'));
    assert.equal(new Date(spring.start).toISOString(), '2026-03-29T07:00:00.000Z');
    const [winter] = workingIntervals(berlin, Date.parse('2026-03-22T00:00:00Z'), Date.parse('2026-03-23T00:00:00Z'));
    assert.equal(new Date(winter.start).toISOString(), '2026-03-22T08:00:00.000Z');
  });
});
