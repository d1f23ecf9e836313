import { strict as assert } from 'node:assert';
import * as consumer from './index';
import { db } from '../../shared/db';
import { addDays, branchDay } from '../../shared/calendar';
import { startFunction, deliver, resetDatabase, published, eventually, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at, ZONE, RESOURCES } from '../../../test/support/clinic';
import { takeResources } from '../appointments';

/** The branch-local date `days` days from today. */
const day = (days: number) => addDays(branchDay(new Date(), ZONE), days);
const employees = (n: number, prefix = 'emp') => Array.from({ length: n }, (_, i) => ({ patientId: `${prefix}-${i + 1}` }));
const request = (data: Partial<{ requestId: string; visitTypeId: string; branchId: string; from: string; to: string; employees: Array<{ patientId: string; language?: 'vi' | 'en' }> }> = {}) => ({
  type: 'com.medlab.checkup.requested',
  data: { requestId: 'chk-1', companyId: 'acme', visitTypeId: 'annual-checkup', branchId: BRANCH, from: day(1), to: day(3), employees: employees(3), ...data },
});
const localDay = (d: Date) => branchDay(d, ZONE);
const localTime = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit' }).format(d);

describe('checkup-consumer (KafkaSource on checkup-requests)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(consumer); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const booked = () => db().appointment.findMany({ where: { checkupRequestId: 'chk-1' }, orderBy: { startsAt: 'asc' } });

  it('employees are spread over the days in turn, each at the earliest free time of their day', async () => {
    const res = await deliver(fn.url, request({ employees: [...employees(4), { patientId: 'emp-en', language: 'en' }] }));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.scheduled, 5);
    const visits = await booked();
    const byPatient = Object.fromEntries(visits.map((v) => [v.patientId, `${localDay(v.startsAt)} ${localTime(v.startsAt)}`]));
    // Three days, five employees: day 1, 2, 3, then day 1 and 2 again (after the first visit of the day; one ECG).
    assert.deepEqual(byPatient, {
      'emp-1': `${day(1)} 07:00`, 'emp-2': `${day(2)} 07:00`, 'emp-3': `${day(3)} 07:00`,
      'emp-4': `${day(1)} 07:30`, 'emp-en': `${day(2)} 07:30`,
    });
    for (const v of visits) {
      assert.equal(v.status, 'booked');
      assert.equal(v.channel, 'checkup');
      assert.equal(v.visitTypeId, 'annual-checkup');
    }
    assert.equal(visits.find((v) => v.patientId === 'emp-en')!.language, 'en');
    const events = await published('appointment-events');
    const bookedEvents = events.filter((e) => e.type === 'com.medlab.appointment.booked');
    assert.equal(bookedEvents.length, 5);
    assert.ok(bookedEvents.every((e) => e.data.resourceIds.length === 3 && e.data.resourceIds.includes(RESOURCES.ecg)));
    const scheduled = events.filter((e) => e.type === 'com.medlab.checkup.scheduled');
    assert.deepEqual(scheduled.map((e) => [e.key, e.data]), [['chk-1', { requestId: 'chk-1', companyId: 'acme', scheduled: 5, unplaced: [] }]]);
  });

  it('no resource is ever double-booked, with visits already on the calendar and two visits at once where two sets of resources are free', async () => {
    // A GP visit holds Dr An and room 1 tomorrow 07:00–07:15; the GP consultation needs no ECG, so two fit side by side.
    await createAppointment({ start: at(1, '07:00'), visitTypeId: 'gp-consult' });
    const res = await deliver(fn.url, request({ visitTypeId: 'gp-consult', from: day(1), to: day(1), employees: employees(5) }));
    assert.equal(res.body.result.scheduled, 5);
    const holdings = await db().resourceBooking.findMany({ where: { releasedAt: null } });
    for (const a of holdings) {
      for (const b of holdings) {
        if (a.id !== b.id && a.resourceId === b.resourceId) assert.ok(a.endsAt <= b.startsAt || b.endsAt <= a.startsAt, `resource ${a.resourceId} held twice at once`);
      }
    }
    const times = (await booked()).map((v) => localTime(v.startsAt));
    assert.deepEqual(times, ['07:00', '07:15', '07:15', '07:30', '07:30'], 'the first takes the one doctor and room left at 07:00');
  });

  it('a resource a concurrent booking takes while the plan is written makes the plan run again with fresh calendars', async () => {
    // Another booking holds the ECG tomorrow 07:00 in a transaction that has not committed: the plan cannot see it.
    let commit!: () => void;
    const committed = new Promise<void>((r) => { commit = r; });
    const other = db().$transaction(async (tx) => {
      const a = await tx.appointment.create({ data: { patientId: 'walk-in', branchId: BRANCH, visitTypeId: 'annual-checkup', startsAt: at(1, '07:00'), endsAt: at(1, '07:30'), status: 'booked' } });
      await takeResources(tx, a.id, { start: at(1, '07:00').getTime(), end: at(1, '07:30').getTime(), resourceIds: [RESOURCES.drBinh, RESOURCES.room2, RESOURCES.ecg] });
      await committed;
    }, { timeout: 60_000 });
    const answer = deliver(fn.url, request({ from: day(1), to: day(1), employees: employees(1) }));
    // The plan chose 07:00 and its insert waits on the other booking's holding of the ECG; that booking commits.
    await eventually(async () => (await db().$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0].n > 0, 'the plan waiting on the ECG');
    commit();
    await other;
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.body.result.scheduled, 1);
    assert.deepEqual((await booked()).map((v) => localTime(v.startsAt)), ['07:30'], 'planned again: the ECG is free from 07:30');
    assert.equal((await published('appointment-events')).filter((e) => e.type === 'com.medlab.appointment.booked').length, 1, 'the undone attempt emitted nothing');
  });

  it('employees that do not fit in the window are unplaced, and named in checkup.scheduled', async () => {
    // One ECG, 07:00–12:00 and 13:00–17:00, 30-minute check-ups: 18 a day.
    const res = await deliver(fn.url, request({ from: day(1), to: day(1), employees: employees(20) }));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.scheduled, 18);
    assert.deepEqual(res.body.result.unplaced, ['emp-19', 'emp-20']);
    assert.equal((await booked()).length, 18);
    const scheduled = (await published('appointment-events')).find((e) => e.type === 'com.medlab.checkup.scheduled')!;
    assert.deepEqual(scheduled.data.unplaced, ['emp-19', 'emp-20']);
  });

  it('a request delivered again, even under another event id, books nobody twice and places who did not fit before', async () => {
    const first = await deliver(fn.url, { ...request({ from: day(1), to: day(1), employees: employees(20) }), id: 'evt-a', source: '/partner' });
    assert.equal(first.body.result.scheduled, 18);
    assert.equal((await deliver(fn.url, { ...request({ from: day(1), to: day(1), employees: employees(20) }), id: 'evt-a', source: '/partner' })).body.status, 'duplicate');
    // Re-sent by the partner with a longer window: the two left over get the next day, nobody else moves.
    const again = await deliver(fn.url, { ...request({ from: day(1), to: day(2), employees: employees(20) }), id: 'evt-b', source: '/partner' });
    assert.equal(again.status, 200);
    assert.deepEqual({ ...again.body.result }, { scheduled: 20, booked: 2, alreadyBooked: 18, unplaced: [] });
    const visits = await booked();
    assert.equal(visits.length, 20);
    assert.equal(new Set(visits.map((v) => v.patientId)).size, 20);
    assert.deepEqual(visits.filter((v) => localDay(v.startsAt) === day(2)).map((v) => v.patientId).sort(), ['emp-19', 'emp-20']);
    assert.equal((await published('appointment-events')).filter((e) => e.type === 'com.medlab.appointment.booked').length, 20);
  });

  it('requests that can never succeed are refused 422 naming the field (dead-lettered), and book nobody', async () => {
    const cases: Array<[Parameters<typeof request>[0], string]> = [
      [{ visitTypeId: 'space-flight' }, 'data/visitTypeId'],
      [{ branchId: 'nowhere' }, 'data/branchId'],
      // Ba Dinh has a general practitioner but no exam room or ECG.
      [{ branchId: OTHER_BRANCH }, 'data/branchId'],
      [{ from: day(5), to: day(2) }, 'data/to'],
      [{ from: day(1), to: day(93) }, 'data/to'],
    ];
    for (const [data, field] of cases) {
      const res = await deliver(fn.url, request(data));
      assert.equal(res.status, 422, `${JSON.stringify(data)} → ${res.status}`);
      assert.deepEqual(res.body['invalid-params'].map((p: { name: string }) => p.name), [field]);
    }
    const badData = await deliver(fn.url, request({ from: 'tomorrow', employees: [] }));
    assert.equal(badData.status, 400);
    assert.deepEqual(badData.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['data/employees', 'data/from']);
    assert.equal(await db().appointment.count(), 0);
    assert.equal((await published('appointment-events')).length, 0);
  });

  it('92 days is the longest window a request may cover', async () => {
    const res = await deliver(fn.url, request({ from: day(1), to: day(92), employees: employees(1) }));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.scheduled, 1);
  });
});
