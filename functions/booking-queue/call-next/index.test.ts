import { strict as assert } from 'node:assert';
import * as callNext from './index';
import { db } from '../../shared/db';
import { ticketNumber, type Lane } from '../domain';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, hoursFromNow, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { branchDay } from '../calendar';

const today = () => branchDay(new Date(), 'Asia/Ho_Chi_Minh');
let seq = 0;

/** A ticket of today's blood-draw queue at BRANCH; numbers follow arrival. */
async function ticket(data: { lane?: Lane; status?: 'waiting' | 'called'; counter?: string; calledAt?: Date; bookingId?: string; day?: string } = {}) {
  seq++;
  return db().ticket.create({ data: { branchId: BRANCH, serviceId: 'blood-draw', day: today(), seq, number: ticketNumber('A', seq), lane: data.lane ?? 'walkin', ...data } });
}

describe('call-next (POST /api/queue/call-next)', () => {
  let fn: RunningFunction;
  const next = (counter = '1') => call(fn.url, { token: staffToken(), body: { branchId: BRANCH, serviceId: 'blood-draw', counter } });
  before(async () => { fn = await startFunction(callNext); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); seq = 0; });

  it('an SVIP walk-in is called before an earlier booked patient', async () => {
    await ticket({ lane: 'booked' });
    const svip = await ticket({ lane: 'svip' });
    const res = await next('2');
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.called.ticketId, res.body.called.status, res.body.called.counter, res.body.waiting], [svip.id, 'called', '2', 1]);
    const called = (await published('queue-events')).find((e) => e.type === 'com.medlab.ticket.called')!;
    assert.deepEqual([called.data.number, called.data.counter, called.data.recall], ['A-002', '2', false]);
  });

  it('serves lanes in the order svip, vip, booked, walkin, and by arrival within a lane', async () => {
    await ticket({ lane: 'walkin' });
    await ticket({ lane: 'booked' });
    await ticket({ lane: 'vip' });
    await ticket({ lane: 'walkin' });
    await ticket({ lane: 'svip' });
    await ticket({ lane: 'vip' });
    const order = [];
    for (let i = 0; i < 6; i++) order.push((await next()).body.called.number);
    assert.deepEqual(order, ['A-005', 'A-003', 'A-006', 'A-002', 'A-001', 'A-004']);
  });

  it("follows the branch's own lane order", async () => {
    await db().branch.update({ where: { id: BRANCH }, data: { laneOrder: ['booked', 'svip', 'vip', 'walkin'] } });
    await ticket({ lane: 'svip' });
    await ticket({ lane: 'booked' });
    assert.equal((await next()).body.called.number, 'A-002');
  });

  it("calling next serves the counter's current patient first, with the seconds spent at the counter", async () => {
    const current = await ticket({ status: 'called', counter: '1', calledAt: new Date(Date.now() - 240_000) });
    const elsewhere = await ticket({ status: 'called', counter: '2', calledAt: new Date() });
    const waiting = await ticket();
    const res = await next('1');
    assert.deepEqual([res.body.served.ticketId, res.body.served.status, res.body.called.ticketId], [current.id, 'served', waiting.id]);
    const served = await db().ticket.findUniqueOrThrow({ where: { id: current.id } });
    const event = (await published('queue-events')).find((e) => e.type === 'com.medlab.ticket.served')!;
    assert.equal(event.data.serviceSeconds, Math.round((served.servedAt!.getTime() - served.calledAt!.getTime()) / 1000));
    assert.ok(event.data.serviceSeconds >= 240);
    assert.equal((await db().ticket.findUniqueOrThrow({ where: { id: elsewhere.id } })).status, 'called');
  });

  it('an empty queue answers 200 with nobody called (and still serves the counter)', async () => {
    const empty = await next();
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, { called: null, served: null, waiting: 0 });
    const current = await ticket({ status: 'called', counter: '1', calledAt: new Date() });
    const res = await next();
    assert.deepEqual([res.body.called, res.body.served.ticketId, res.body.waiting], [null, current.id, 0]);
  });

  it('the next five waiting patients hear their new position and ETA', async () => {
    for (let i = 0; i < 7; i++) await ticket();
    const res = await next();
    assert.equal(res.body.waiting, 6);
    const moved = (await published('queue-events')).filter((e) => e.type === 'com.medlab.queue.position-changed');
    assert.deepEqual(moved.map((e) => [e.data.number, e.data.position, e.data.etaMinutes]), [
      ['A-002', 1, 0], ['A-003', 2, 5], ['A-004', 3, 10], ['A-005', 4, 15], ['A-006', 5, 20],
    ]);
    assert.ok(moved.every((e) => e.key === `${BRANCH}/blood-draw`));
  });

  it("yesterday's tickets are not called today", async () => {
    await ticket({ day: branchDay(hoursFromNow(-24), 'Asia/Ho_Chi_Minh') });
    const res = await next();
    assert.equal(res.body.called, null);
  });

  it("calling a booked patient leaves their booking checked in", async () => {
    const slot = await createSlot({ startsAt: hoursFromNow(1) });
    const booking = await db().booking.create({ data: { slotId: slot.id, patientId: 'p-1', status: 'checked_in' } });
    await ticket({ lane: 'booked', bookingId: booking.id });
    assert.equal((await next()).body.called.bookingId, booking.id);
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: booking.id } })).status, 'checked_in');
    assert.deepEqual(await published('booking-events'), []);
  });

  it('auth: staff of the branch and services call; patients and other branches get 403', async () => {
    await ticket();
    await ticket();
    const cases: Array<[string, string | undefined, number]> = [
      ['no token', undefined, 401],
      ['patient', patientToken('p-1'), 403],
      ['SVIP patient', patientToken('p-1', 'svip'), 403],
      ['staff of another branch', staffToken(OTHER_BRANCH), 403],
      ['staff of the branch', staffToken(), 200],
      ['service', token('service', 'kiosk'), 200],
    ];
    for (const [who, tok, status] of cases) {
      const res = await call(fn.url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw', counter: '1' } });
      assert.equal(res.status, status, `${who} → ${res.status}`);
    }
    assert.equal(await db().ticket.count({ where: { status: 'called' } }), 1);
  });

  it('answers bad input with 4xx problem+json naming the field', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ branchId: BRANCH, serviceId: 'blood-draw' }, 400, 'body/counter'],
      [{ branchId: BRANCH, serviceId: 'blood-draw', counter: '' }, 400, 'body/counter'],
      [{ branchId: BRANCH, serviceId: 'blood-draw', counter: 'x'.repeat(21) }, 400, 'body/counter'],
      [{ branchId: BRANCH, counter: '1' }, 400, 'body/serviceId'],
      [{ branchId: 'nowhere', serviceId: 'blood-draw', counter: '1' }, 404, 'body/branchId'],
      [{ branchId: BRANCH, serviceId: 'x-ray', counter: '1' }, 404, 'body/serviceId'],
    ];
    for (const [body, status, field] of cases) {
      const res = await call(fn.url, { token: token('service', 'kiosk'), body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });
});
