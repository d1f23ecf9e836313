import { strict as assert } from 'node:assert';
import * as availability from './index';
import { resetDatabase, startFunction, call, patientToken, staffToken, BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, localDay, createAppointment, RESOURCES } from '../../../test/support/clinic';
import { db } from '../../shared/db';

describe('appointment-availability (GET /api/appointments/availability)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(availability); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const day = localDay;
  const ask = (query: Record<string, string>, t = patientToken()) => call(fn.url, { token: t, query: { visitTypeId: 'annual-checkup', branchId: BRANCH, ...query } });
  const localTimes = (slots: Array<{ start: string }>) => slots.map((s) => new Date(Date.parse(s.start) + 7 * 3600_000).toISOString().slice(11, 16));

  it('offers every quarter hour where the doctor, a room and the ECG all work, around the lunch break', async () => {
    const res = await ask({ from: day(2), limit: '2000' });
    assert.equal(res.status, 200);
    assert.equal(res.body.durationMinutes, 30);
    const times = localTimes(res.body.slots);
    assert.equal(times[0], '07:00');
    assert.ok(times.includes('11:30') && !times.includes('11:45'), 'a 30-minute visit must end by 12:00');
    assert.ok(!times.includes('12:00') && times.includes('13:00') && times.includes('16:30') && !times.includes('16:45'));
    assert.equal(res.body.slots[0].resourceIds, undefined, 'patients are not shown who serves');
    assert.equal((await ask({ from: day(2) }, staffToken())).body.slots[0].resourceIds.length, 3);
  });

  it('a booked ECG removes the overlapping starts; a doctor on leave leaves the other doctor', async () => {
    await createAppointment({ start: at(2, '09:00'), visitTypeId: 'annual-checkup' });
    let times = localTimes((await ask({ from: day(2) })).body.slots);
    assert.ok(!times.includes('08:45') && !times.includes('09:00') && !times.includes('09:15') && times.includes('08:30') && times.includes('09:30'));
    // Both doctors away all morning: nothing before 13:00.
    for (const resourceId of [RESOURCES.drAn, RESOURCES.drBinh]) {
      await db().scheduleException.create({ data: { resourceId, kind: 'closed', startsAt: at(2, '00:00'), endsAt: at(2, '12:00'), reason: 'training' } });
    }
    times = localTimes((await ask({ from: day(2) })).body.slots);
    assert.equal(times[0], '13:00');
  });

  it('spans several days, never offers the past, and refuses a window backwards or over 92 days naming query/to', async () => {
    const three = await ask({ from: day(1), to: day(3), limit: '2000' });
    assert.equal(new Set(three.body.slots.map((s: { start: string }) => new Date(Date.parse(s.start) + 7 * 3600_000).toISOString().slice(0, 10))).size, 3);
    const today = await ask({ from: day(0), limit: '2000' });
    assert.ok(today.body.slots.every((s: { start: string }) => Date.parse(s.start) > Date.now()));
    for (const to of [day(0), localDay(100)]) {
      const res = await ask({ from: day(1), to });
      assert.equal(res.status, 400, to);
      assert.equal(res.body['invalid-params'][0].name, 'query/to');
    }
  });

  it('an unknown visit type is 404 naming query/visitTypeId; bad queries are 400 naming the field', async () => {
    const unknown = await ask({ from: day(1), visitTypeId: 'nope' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['invalid-params'][0].name, 'query/visitTypeId');
    for (const [query, field] of [[{ from: 'monday' }, 'query/from'], [{ from: day(1), limit: '0' }, 'query/limit'], [{}, 'query/from']] as const) {
      const res = await ask(query as Record<string, string>);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { query: { visitTypeId: 'gp-consult', branchId: BRANCH, from: day(1) } })).status, 401);
  });
});
