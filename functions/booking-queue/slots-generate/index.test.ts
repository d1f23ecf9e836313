import { strict as assert } from 'node:assert';
import * as slotsGenerate from './index';
import { db } from '../../shared/db';


import { resetDatabase, seedCatalogue, startFunction, call, patientToken, staffToken, token, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { addDays, branchDay, isoWeekday, localTimeToUtc } from '../calendar';

const HCM = 'Asia/Ho_Chi_Minh';
const today = () => branchDay(new Date(), HCM);
const nextMonday = () => {
  let day = addDays(today(), 1);
  while (isoWeekday(day) !== 1) day = addDays(day, 1);
  return day;
};

describe('slots-generate (POST /api/slots/generate)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(slotsGenerate); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const template = (extra: Record<string, unknown> = {}) => {
    const from = nextMonday();
    return { branchId: BRANCH, serviceId: 'blood-draw', from, to: addDays(from, 13), weekdays: [1, 3], times: ['08:00', '14:30'], capacity: 4, ...extra };
  };
  const slots = () => db().slot.findMany({ orderBy: { startsAt: 'asc' } });

  it('fills Mondays and Wednesdays at 08:00 and 14:30 Ho Chi Minh time for two weeks: 8 slots at 01:00Z and 07:30Z', async () => {
    const res = await call(fn.url, { token: staffToken(), body: template() });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { slots: 8, created: 8, skipped: 0 });
    const opened = await slots();
    assert.equal(opened.length, 8);
    for (const s of opened) {
      assert.ok([1, 3].includes(isoWeekday(branchDay(s.startsAt, HCM))), s.startsAt.toISOString());
      assert.match(s.startsAt.toISOString(), /T(01:00|07:30):00\.000Z$/);
      assert.equal(s.endsAt.getTime() - s.startsAt.getTime(), 5 * 60_000);
      assert.deepEqual([s.capacity, s.booked, s.status, s.serviceId, s.branchId], [4, 0, 'open', 'blood-draw', BRANCH]);
    }
    assert.equal(opened[0].startsAt.toISOString(), `${template().from}T01:00:00.000Z`);
  });

  it('reads the times in the branch timezone: 09:00 at a Berlin branch in winter is 08:00Z', async () => {
    await db().branch.create({ data: { id: 'ber', name: 'Berlin Mitte', timezone: 'Europe/Berlin' } });
    const day = addDays(today(), 7);
    const res = await call(fn.url, { token: token('service', 'scheduler'), body: template({ branchId: 'ber', from: day, to: day, weekdays: [1, 2, 3, 4, 5, 6, 7], times: ['09:00'] }) });
    assert.equal(res.status, 201);
    assert.deepEqual((await slots()).map((s) => s.startsAt.toISOString()), [`${day}T08:00:00.000Z`]);
  });

  it('durationMinutes sets how long each slot lasts', async () => {
    await call(fn.url, { token: staffToken(), body: template({ durationMinutes: 30 }) });
    assert.ok((await slots()).every((s) => s.endsAt.getTime() - s.startsAt.getTime() === 30 * 60_000));
  });

  it('running a template again opens nothing new and leaves existing slots and their bookings alone', async () => {
    await call(fn.url, { token: staffToken(), body: template() });
    const [first] = await slots();
    await db().slot.update({ where: { id: first.id }, data: { booked: 3 } });
    const again = await call(fn.url, { token: staffToken(), body: template({ capacity: 10 }) });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, { slots: 8, created: 0, skipped: 8 });
    const after = await slots();
    assert.equal(after.length, 8);
    assert.deepEqual([after[0].booked, after[0].capacity], [3, 4]);
  });

  it('a longer range adds only the missing slots', async () => {
    await call(fn.url, { token: staffToken(), body: template() });
    const wider = await call(fn.url, { token: staffToken(), body: template({ to: addDays(nextMonday(), 20) }) });
    assert.deepEqual(wider.body, { slots: 12, created: 4, skipped: 8 });
    assert.equal((await slots()).length, 12);
  });

  it('start times that have already passed are skipped and counted', async () => {
    const res = await call(fn.url, { token: staffToken(), body: template({ from: today(), to: addDays(today(), 1), weekdays: [1, 2, 3, 4, 5, 6, 7], times: ['00:00'] }) });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { slots: 2, created: 1, skipped: 1 });
    assert.deepEqual((await slots()).map((s) => branchDay(s.startsAt, HCM)), [addDays(today(), 1)]);
  });

  it('fills at most 92 days, and the range must not end before it starts: 400 naming to', async () => {
    const from = addDays(today(), 1);
    const longest = await call(fn.url, { token: staffToken(), body: template({ from, to: addDays(from, 91), weekdays: [1, 2, 3, 4, 5, 6, 7], times: ['09:00'] }) });
    assert.equal(longest.status, 201);
    assert.equal(longest.body.created, 92);
    for (const to of [addDays(from, 92), addDays(from, -1)]) {
      const res = await call(fn.url, { token: staffToken(), body: template({ from, to }) });
      assert.equal(res.status, 400, to);
      assert.equal(res.body['invalid-params'][0].name, 'body/to');
    }
  });

  it('answers bad input with 400 problem+json naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ from: 'next monday' }, 'body/from'],
      [{ to: '2027-02-30' }, 'body/to'],
      [{ weekdays: [] }, 'body/weekdays'],
      [{ weekdays: [0] }, 'body/weekdays.0'],
      [{ weekdays: [1, 8] }, 'body/weekdays.1'],
      [{ weekdays: [1, 1] }, 'body/weekdays'],
      [{ times: ['9:00'] }, 'body/times.0'],
      [{ times: ['08:00', '24:00'] }, 'body/times.1'],
      [{ times: [] }, 'body/times'],
      [{ capacity: 0 }, 'body/capacity'],
      [{ durationMinutes: 600 }, 'body/durationMinutes'],
      [{ serviceId: undefined }, 'body/serviceId'],
    ];
    for (const [change, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body: template(change) });
      assert.equal(res.status, 400, JSON.stringify(change));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), `${field}: ${JSON.stringify(res.body)}`);
    }
    assert.equal(await db().slot.count(), 0);
  });

  it('an unknown branch or service is a 404 naming the field', async () => {
    const branch = await call(fn.url, { token: token('service', 'scheduler'), body: template({ branchId: 'nowhere' }) });
    assert.equal(branch.status, 404);
    assert.equal(branch.body['invalid-params'][0].name, 'body/branchId');
    const service = await call(fn.url, { token: staffToken(), body: template({ serviceId: 'x-ray' }) });
    assert.equal(service.status, 404);
    assert.equal(service.body['invalid-params'][0].name, 'body/serviceId');
  });

  it('staff fill their own branch only; patients never; a token is required', async () => {
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body: template() })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken(), body: template() })).status, 403);
    assert.equal((await call(fn.url, { body: template() })).status, 401);
    assert.equal(await db().slot.count(), 0);
  });
});

describe('localTimeToUtc (branch wall clock → instant)', () => {
  it('Ho Chi Minh City is UTC+7 all year', () => {
    assert.equal(localTimeToUtc('2026-12-01', '08:00', HCM).toISOString(), '2026-12-01T01:00:00.000Z');
    assert.equal(localTimeToUtc('2026-07-01', '00:30', HCM).toISOString(), '2026-06-30T17:30:00.000Z');
  });

  it('follows daylight saving: 09:00 in Berlin is 08:00Z before the March change and 07:00Z after it', () => {
    assert.equal(localTimeToUtc('2026-03-28', '09:00', 'Europe/Berlin').toISOString(), '2026-03-28T08:00:00.000Z');
    assert.equal(localTimeToUtc('2026-03-30', '09:00', 'Europe/Berlin').toISOString(), '2026-03-30T07:00:00.000Z');
  });

  it('a time that happens twice (clocks go back) means the first one; a skipped time moves forward by the gap', () => {
    assert.equal(localTimeToUtc('2026-11-01', '01:30', 'America/New_York').toISOString(), '2026-11-01T05:30:00.000Z');
    assert.equal(localTimeToUtc('2026-03-08', '02:30', 'America/New_York').toISOString(), '2026-03-08T07:30:00.000Z');
  });

  it('handles zones east and west of the date line', () => {
    assert.equal(localTimeToUtc('2026-12-01', '00:00', 'Pacific/Kiritimati').toISOString(), '2026-11-30T10:00:00.000Z');
    assert.equal(localTimeToUtc('2026-12-01', '23:00', 'Pacific/Pago_Pago').toISOString(), '2026-12-02T10:00:00.000Z');
  });
});
