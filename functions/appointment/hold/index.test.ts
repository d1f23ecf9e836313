import { strict as assert } from 'node:assert';
import * as hold from './index';
import * as availability from '../availability/index';
import { resetDatabase, startFunction, call, patientToken, published, BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, localDay } from '../../../test/support/clinic';
import { db } from '../../shared/db';

describe('appointment-hold (POST /api/appointments/hold)', () => {
  let fn: RunningFunction;
  let free: RunningFunction;
  before(async () => { [fn, free] = await Promise.all([startFunction(hold), startFunction(availability)]); });
  after(async () => { await fn.close(); await free.close(); });
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const holdAt = (start: Date, patient = 'p-1', extra: Record<string, unknown> = {}) =>
    call(fn.url, { token: patientToken(patient), body: { visitTypeId: 'annual-checkup', branchId: BRANCH, start: start.toISOString(), ...extra } });
  const starts = async (day: number) => (await call(free.url, { token: patientToken(), query: { visitTypeId: 'annual-checkup', branchId: BRANCH, from: localDay(day) } })).body.slots.map((s: { start: string }) => s.start);

  it('holds every resource the visit needs for 5 minutes: the time leaves availability and nobody else can take it', async () => {
    const before = await starts(2);
    const res = await holdAt(at(2, '09:00'), 'p-1', { patientTimezone: 'Europe/Berlin', language: 'en' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.status, res.body.patientTimezone, res.body.language], ['proposed', 'Europe/Berlin', 'en']);
    const minutes = (Date.parse(res.body.holdExpiresAt) - Date.now()) / 60_000;
    assert.ok(minutes > 4 && minutes <= 5, `hold of ${minutes} min`);
    assert.ok(before.includes(at(2, '09:00').toISOString()), `09:00 offered before: ${before.slice(0, 12)}`);
    const after = await starts(2);
    assert.ok(!after.includes(at(2, '09:00').toISOString()) && !after.includes(at(2, '09:15').toISOString()), 'the one ECG is held from 09:00 to 09:30');
    assert.ok(after.includes(at(2, '09:30').toISOString()), `09:30 offered after: ${after.slice(0, 12)}`);
    const second = await holdAt(at(2, '09:15'), 'p-2');
    assert.equal(second.status, 409);
    const events = await published('appointment-events');
    assert.deepEqual(events.map((e) => e.type), ['com.medlab.appointment.held']);
    assert.equal(events[0].data.holdExpiresAt, res.body.holdExpiresAt);
  });

  it('the hold lasts APPOINTMENT_HOLD_MINUTES when set', async () => {
    process.env.APPOINTMENT_HOLD_MINUTES = '2';
    try {
      const res = await holdAt(at(2, '10:00'));
      const minutes = (Date.parse(res.body.holdExpiresAt) - Date.now()) / 60_000;
      assert.ok(minutes > 1 && minutes <= 2, `hold of ${minutes} min`);
    } finally {
      delete process.env.APPOINTMENT_HOLD_MINUTES;
    }
  });

  it('a time on another branch\'s schedule only, or at night, is outside the schedule (400 naming body/start)', async () => {
    const night = await holdAt(at(2, '03:00'));
    assert.equal(night.status, 400);
    assert.equal(night.body['invalid-params'][0].name, 'body/start');
    const elsewhere = await call(fn.url, { token: patientToken(), body: { visitTypeId: 'annual-checkup', branchId: 'no-such-branch', start: at(2, '09:00').toISOString() } });
    assert.equal(elsewhere.status, 400);
    assert.equal(await db().appointment.count(), 0);
  });
});
