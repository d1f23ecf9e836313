import { strict as assert } from 'node:assert';
import * as ticketAction from './index';
import { db } from '../../shared/db';
import { ticketNumber } from '../domain';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, hoursFromNow, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { branchDay } from '../calendar';

type Status = 'waiting' | 'called' | 'skipped' | 'served' | 'no_show';
const today = () => branchDay(new Date(), 'Asia/Ho_Chi_Minh');
let seq = 0;

/** A ticket of today's blood-draw queue at BRANCH; a called or skipped one was called at counter 1 a minute ago. */
async function ticket(status: Status = 'called', data: { counter?: string; bookingId?: string } = {}) {
  seq++;
  const atCounter = status === 'waiting' ? {} : { counter: '1', calledAt: new Date(Date.now() - 60_000) };
  return db().ticket.create({
    data: { branchId: BRANCH, serviceId: 'blood-draw', day: today(), seq, number: ticketNumber('A', seq), lane: 'walkin', status, ...atCounter, ...data },
  });
}

describe('ticket-action (POST /api/queue/ticket-action)', () => {
  let fn: RunningFunction;
  const act = (ticketId: string, action: string, extra: Record<string, unknown> = {}) =>
    call(fn.url, { token: staffToken(), body: { ticketId, action, ...extra } });
  const queueEvents = async () => (await published('queue-events')).map((e) => ({ type: e.type.replace('com.medlab.', ''), ...e.data }));
  before(async () => { fn = await startFunction(ticketAction); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); seq = 0; });

  it('serve: a called patient is done, with the seconds they spent at the counter', async () => {
    const t = await ticket('called');
    const res = await act(t.id, 'serve');
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.status, res.body.counter, res.body.position], ['served', '1', null]);
    const [served] = await queueEvents();
    assert.equal(served.type, 'ticket.served');
    assert.equal(served.counter, '1');
    assert.ok(served.serviceSeconds >= 60);
  });

  it('skip: a called patient who does not come up waits aside, remembering the counter', async () => {
    const t = await ticket('called', { counter: '2' });
    const res = await act(t.id, 'skip');
    assert.equal(res.body.status, 'skipped');
    const [skipped] = await queueEvents();
    assert.deepEqual([skipped.type, skipped.number, skipped.counter], ['ticket.skipped', 'A-001', '2']);
  });

  it('recall: a skipped patient is called again at the counter named', async () => {
    const t = await ticket('skipped');
    const res = await act(t.id, 'recall', { counter: '4' });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.status, res.body.counter], ['called', '4']);
    assert.ok(new Date(res.body.calledAt) > t.calledAt!);
    const [called] = await queueEvents();
    assert.deepEqual([called.type, called.counter, called.recall], ['ticket.called', '4', true]);
  });

  it('recall: a called patient is called again at the same counter when none is named', async () => {
    const t = await ticket('called', { counter: '3' });
    const res = await act(t.id, 'recall');
    assert.deepEqual([res.body.status, res.body.counter], ['called', '3']);
    const [called] = await queueEvents();
    assert.equal(called.recall, true);
  });

  it('recall: a skipped ticket needs a counter (400), and one that is free (409)', async () => {
    const t = await ticket('skipped');
    const noCounter = await act(t.id, 'recall');
    assert.equal(noCounter.status, 400);
    assert.equal(noCounter.body['invalid-params'][0].name, 'body/counter');
    await ticket('called', { counter: '5' });
    const busy = await act(t.id, 'recall', { counter: '5' });
    assert.equal(busy.status, 409);
    assert.equal(busy.body['invalid-params'][0].name, 'body/counter');
    assert.match(busy.body.detail, /attending to A-002/);
    assert.equal((await db().ticket.findUniqueOrThrow({ where: { id: t.id } })).status, 'skipped');
  });

  it('no-show: a checked-in booked patient who never came up closes the ticket and the booking', async () => {
    const slot = await createSlot({ startsAt: hoursFromNow(1) });
    const booking = await db().booking.create({ data: { slotId: slot.id, patientId: 'p-1', status: 'checked_in' } });
    const t = await ticket('skipped', { bookingId: booking.id });
    const res = await act(t.id, 'no-show');
    assert.equal(res.body.status, 'no_show');
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: booking.id } })).status, 'no_show');
    assert.deepEqual((await queueEvents()).map((e) => e.type), ['ticket.no-show']);
    const [changed] = await published('booking-events');
    assert.deepEqual([changed.type, changed.key, changed.data.status, changed.data.previousStatus], ['com.medlab.booking.status-changed', booking.id, 'no_show', 'checked_in']);
  });

  it('no-show: a waiting walk-in is closed without touching any booking', async () => {
    const t = await ticket('waiting');
    assert.equal((await act(t.id, 'no-show')).body.status, 'no_show');
    assert.deepEqual(await published('booking-events'), []);
  });

  it('illegal moves are 409 naming body/action, and change nothing', async () => {
    const cases: Array<[Status, string]> = [
      ['waiting', 'serve'], ['waiting', 'skip'], ['waiting', 'recall'], ['skipped', 'serve'],
      ['served', 'skip'], ['served', 'recall'], ['served', 'no-show'], ['no_show', 'serve'], ['no_show', 'recall'],
    ];
    for (const [status, action] of cases) {
      const t = await ticket(status);
      const res = await act(t.id, action, { counter: '9' });
      assert.equal(res.status, 409, `${action} a ${status} ticket → ${res.status}`);
      assert.equal(res.body['invalid-params'][0].name, 'body/action');
      assert.equal((await db().ticket.findUniqueOrThrow({ where: { id: t.id } })).status, status);
    }
    assert.deepEqual(await published('queue-events'), []);
  });

  it('auth: staff of the ticket branch and services act; patients get 403; another branch\'s ticket is not found', async () => {
    const cases: Array<[string, string | undefined, number]> = [
      ['no token', undefined, 401],
      ['the patient', patientToken('p-1'), 403],
      ['staff of another branch', staffToken(OTHER_BRANCH), 404],
      ['staff of the branch', staffToken(), 200],
      ['service', token('service', 'kiosk'), 200],
    ];
    for (const [who, tok, status] of cases) {
      const t = await ticket('called');
      const res = await call(fn.url, { token: tok, body: { ticketId: t.id, action: 'serve' } });
      assert.equal(res.status, status, `${who} → ${res.status}`);
    }
  });

  it('answers bad input with 4xx problem+json naming the field', async () => {
    const t = await ticket('called');
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ ticketId: t.id }, 400, 'body/action'],
      [{ ticketId: t.id, action: 'complete' }, 400, 'body/action'],
      [{ action: 'serve' }, 400, 'body/ticketId'],
      [{ ticketId: 'A-001', action: 'serve' }, 400, 'body/ticketId'],
      [{ ticketId: t.id, action: 'recall', counter: '' }, 400, 'body/counter'],
      [{ ticketId: '00000000-0000-4000-8000-000000000000', action: 'serve' }, 404, 'body/ticketId'],
    ];
    for (const [body, status, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });
});
