import { strict as assert } from 'node:assert';
import * as availability from './index';
import { db } from '../../shared/db';


import { resetDatabase, seedCatalogue, createSlot, startFunction, call, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { addDays, branchDay, localTimeToUtc } from '../calendar';

const HCM = 'Asia/Ho_Chi_Minh';
const today = () => branchDay(new Date(), HCM);
/** A slot at a branch-local wall-clock time, n days from today. */
const at = (days: number, time: string) => localTimeToUtc(addDays(today(), days), time, HCM);

describe('availability (GET /api/availability)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(availability); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const ask = (query: Record<string, string>) => call(fn.url, { query });
  const week = () => ({ branchId: BRANCH, from: addDays(today(), 1), to: addDays(today(), 7) });

  it('lists free places by branch-local day, in start order, without a token', async () => {
    const late = await createSlot({ startsAt: at(2, '15:00'), capacity: 3 });
    const early = await createSlot({ startsAt: at(2, '08:00'), capacity: 2 });
    const next = await createSlot({ startsAt: at(3, '06:30'), serviceId: 'check-up' });
    await db().slot.update({ where: { id: late.id }, data: { booked: 1 } });

    const res = await ask(week());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      branchId: BRANCH, from: week().from, to: week().to,
      days: [
        {
          date: addDays(today(), 2),
          slots: [
            { slotId: early.id, serviceId: 'blood-draw', startsAt: early.startsAt.toISOString(), endsAt: early.endsAt.toISOString(), capacity: 2, free: 2 },
            { slotId: late.id, serviceId: 'blood-draw', startsAt: late.startsAt.toISOString(), endsAt: late.endsAt.toISOString(), capacity: 3, free: 2 },
          ],
        },
        { date: addDays(today(), 3), slots: [{ slotId: next.id, serviceId: 'check-up', startsAt: next.startsAt.toISOString(), endsAt: next.endsAt.toISOString(), capacity: 5, free: 5 }] },
      ],
    });
  });

  it('a slot at 06:30 Ho Chi Minh time (23:30Z the evening before) counts for the local day', async () => {
    const slot = await createSlot({ startsAt: at(3, '06:30') });
    assert.equal(slot.startsAt.getUTCHours(), 23);
    const day = addDays(today(), 3);
    const res = await ask({ branchId: BRANCH, from: day, to: day });
    assert.deepEqual(res.body.days.map((d: { date: string }) => d.date), [day]);
  });

  it('leaves out full, closed and already-started slots, other branches and days outside the range', async () => {
    const full = await createSlot({ startsAt: at(1, '09:00'), capacity: 2 });
    await db().slot.update({ where: { id: full.id }, data: { booked: 2 } });
    await createSlot({ startsAt: at(1, '10:00'), status: 'closed' });
    await createSlot({ startsAt: at(1, '11:00'), branchId: OTHER_BRANCH });
    await createSlot({ startsAt: at(8, '09:00') });
    await createSlot({ startsAt: at(0, '00:00') });
    const open = await createSlot({ startsAt: at(1, '12:00') });
    const res = await ask({ branchId: BRANCH, from: today(), to: addDays(today(), 7) });
    assert.deepEqual(res.body.days.flatMap((d: { slots: { slotId: string }[] }) => d.slots.map((s) => s.slotId)), [open.id]);
  });

  it('serviceId narrows the list to one service', async () => {
    await createSlot({ startsAt: at(1, '09:00'), serviceId: 'blood-draw' });
    const checkUp = await createSlot({ startsAt: at(1, '09:00'), serviceId: 'check-up' });
    const res = await ask({ ...week(), serviceId: 'check-up' });
    assert.deepEqual(res.body.days.flatMap((d: { slots: { slotId: string }[] }) => d.slots.map((s) => s.slotId)), [checkUp.id]);
  });

  it('no free places means no days', async () => {
    const res = await ask(week());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.days, []);
  });

  it('an unknown branch is a 404 naming branchId', async () => {
    const res = await ask({ ...week(), branchId: 'nowhere' });
    assert.equal(res.status, 404);
    assert.equal(res.body['invalid-params'][0].name, 'query/branchId');
  });

  it('asks for at most 62 days, and the range must not end before it starts: 400 naming to', async () => {
    const from = today();
    assert.equal((await ask({ branchId: BRANCH, from, to: addDays(from, 61) })).status, 200);
    for (const to of [addDays(from, 62), addDays(from, -1)]) {
      const res = await ask({ branchId: BRANCH, from, to });
      assert.equal(res.status, 400, to);
      assert.equal(res.body['invalid-params'][0].name, 'query/to');
    }
  });

  it('answers bad input with 400 problem+json naming the field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ from: week().from, to: week().to }, 'query/branchId'],
      [{ branchId: BRANCH, to: week().to }, 'query/from'],
      [{ ...week(), from: '21/11/2026' }, 'query/from'],
      [{ ...week(), to: '2026-02-30' }, 'query/to'],
      [{ ...week(), limit: '5' }, 'query/limit'],
    ];
    for (const [query, field] of cases) {
      const res = await ask(query);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('is read-only: POST is a 405', async () => {
    const res = await call(fn.url, { method: 'POST', query: week(), body: {} });
    assert.equal(res.status, 405);
  });
});
