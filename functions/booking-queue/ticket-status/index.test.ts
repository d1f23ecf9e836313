import { strict as assert } from 'node:assert';
import * as ticketStatus from './index';
import { db } from '../../shared/db';
import { ticketNumber, type Lane } from '../domain';
import { resetDatabase, seedCatalogue, startFunction, call, patientToken, staffToken, token, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { branchDay } from '../calendar';

const today = () => branchDay(new Date(), 'Asia/Ho_Chi_Minh');
let seq = 0;

async function ticket(data: { lane?: Lane; patientId?: string; status?: 'waiting' | 'called' | 'served'; counter?: string; calledAt?: Date } = {}) {
  seq++;
  return db().ticket.create({ data: { branchId: BRANCH, serviceId: 'blood-draw', day: today(), seq, number: ticketNumber('A', seq), lane: data.lane ?? 'walkin', ...data } });
}

describe('ticket-status (GET /api/queue/ticket)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(ticketStatus); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); seq = 0; });

  it('a waiting patient sees their place in line and the minutes until their call', async () => {
    await ticket();
    await ticket({ lane: 'vip' });
    const mine = await ticket({ patientId: 'p-1' });
    const res = await call(fn.url, { token: patientToken('p-1'), query: { ticketId: mine.id } });
    assert.equal(res.status, 200);
    assert.deepEqual(
      { number: res.body.number, status: res.body.status, position: res.body.position, etaMinutes: res.body.etaMinutes, counter: res.body.counter },
      { number: 'A-003', status: 'waiting', position: 3, etaMinutes: 10, counter: null },
    );
  });

  it('the position is live: a later SVIP arrival pushes a waiting patient back', async () => {
    const mine = await ticket({ patientId: 'p-1' });
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { ticketId: mine.id } })).body.position, 1);
    await ticket({ lane: 'svip' });
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { ticketId: mine.id } })).body.position, 2);
  });

  it('a called ticket shows its counter and no position', async () => {
    const mine = await ticket({ patientId: 'p-1', status: 'called', counter: '3', calledAt: new Date() });
    const res = await call(fn.url, { token: patientToken('p-1'), query: { ticketId: mine.id } });
    assert.deepEqual([res.body.status, res.body.counter, res.body.position, res.body.etaMinutes], ['called', '3', null, null]);
  });

  it('auth: a patient sees only their own ticket; staff only their branch; services any', async () => {
    const mine = await ticket({ patientId: 'p-1' });
    const anonymous = await ticket();
    const cases: Array<[string | undefined, string, number]> = [
      [undefined, mine.id, 401],
      [patientToken('p-2'), mine.id, 404],
      [patientToken('p-1'), anonymous.id, 404],
      [staffToken(OTHER_BRANCH), mine.id, 404],
      [staffToken(), anonymous.id, 200],
      [token('service', 'notifier'), mine.id, 200],
    ];
    for (const [tok, ticketId, status] of cases) {
      assert.equal((await call(fn.url, { token: tok, query: { ticketId } })).status, status, `${ticketId} → ${status}`);
    }
  });

  it("another patient's ticket answers exactly as one that does not exist (404, same body)", async () => {
    const mine = await ticket({ patientId: 'p-1' });
    const theirs = await call(fn.url, { token: patientToken('p-2'), query: { ticketId: mine.id } });
    const none = await call(fn.url, { token: patientToken('p-2'), query: { ticketId: crypto.randomUUID() } });
    assert.equal(theirs.status, 404);
    assert.deepEqual(theirs.body, none.body);
  });

  it('answers bad queries with 4xx problem+json naming the field', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 400, 'query/ticketId'],
      [{ ticketId: 'A-001' }, 400, 'query/ticketId'],
      [{ ticketId: '00000000-0000-4000-8000-000000000000' }, 404, 'query/ticketId'],
      [{ ticketId: '00000000-0000-4000-8000-000000000000', branchId: BRANCH }, 400, 'query/branchId'],
    ];
    for (const [query, status, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), query });
      assert.equal(res.status, status, `${JSON.stringify(query)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('is a GET: a POST is 405', async () => {
    const mine = await ticket();
    const res = await call(fn.url, { method: 'POST', token: staffToken(), query: { ticketId: mine.id } });
    assert.equal(res.status, 405);
  });
});
