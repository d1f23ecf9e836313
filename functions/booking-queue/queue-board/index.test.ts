import { strict as assert } from 'node:assert';
import * as queueBoard from './index';
import { db } from '../../shared/db';
import { ticketNumber, type Lane } from '../domain';
import { resetDatabase, seedCatalogue, startFunction, call, patientToken, hoursFromNow, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { branchDay } from '../calendar';

const today = () => branchDay(new Date(), 'Asia/Ho_Chi_Minh');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
let seq = 0;

async function ticket(data: { serviceId?: string; branchId?: string; day?: string; status?: 'waiting' | 'called' | 'served'; counter?: string; issuedAt?: Date; calledAt?: Date; patientId?: string; lane?: Lane } = {}) {
  seq++;
  const prefix = data.serviceId === 'check-up' ? 'B' : 'A';
  return db().ticket.create({
    data: { branchId: BRANCH, serviceId: 'blood-draw', day: today(), seq, number: ticketNumber(prefix, seq), lane: 'walkin', ...data },
  });
}

describe('queue-board (GET /api/queue/board)', () => {
  let fn: RunningFunction;
  const board = (branchId = BRANCH) => call(fn.url, { query: { branchId } });
  before(async () => { fn = await startFunction(queueBoard); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); seq = 0; });

  it('shows, per service, who is at which counter, how many wait, and the average wait today', async () => {
    await ticket({ status: 'served', counter: '1', issuedAt: minutesAgo(40), calledAt: minutesAgo(30) }); // waited 10
    await ticket({ status: 'called', counter: '2', issuedAt: minutesAgo(25), calledAt: minutesAgo(5) }); // waited 20
    await ticket();
    await ticket();
    await ticket({ serviceId: 'check-up' });

    const res = await board();
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      branchId: BRANCH,
      day: today(),
      services: [
        { serviceId: 'blood-draw', name: 'Blood draw', nowServing: [{ number: 'A-002', counter: '2' }], waiting: 2, averageWaitMinutes: 15 },
        { serviceId: 'check-up', name: 'General check-up', nowServing: [], waiting: 1, averageWaitMinutes: 0 },
      ],
    });
  });

  it('lists every counter serving, earliest call first', async () => {
    await ticket({ status: 'called', counter: '3', calledAt: minutesAgo(1) });
    await ticket({ status: 'called', counter: '1', calledAt: minutesAgo(4) });
    assert.deepEqual((await board()).body.services[0].nowServing, [{ number: 'A-002', counter: '1' }, { number: 'A-001', counter: '3' }]);
  });

  it("shows only this branch's tickets of today", async () => {
    await ticket({ day: branchDay(hoursFromNow(-24), 'Asia/Ho_Chi_Minh'), status: 'called', counter: '1', calledAt: hoursFromNow(-24) });
    await ticket({ branchId: OTHER_BRANCH });
    assert.deepEqual((await board()).body.services, []);
    assert.equal((await board(OTHER_BRANCH)).body.services[0].waiting, 1);
  });

  it('is public and names no patient: no token needed, no patient or booking ids on it', async () => {
    await ticket({ patientId: 'p-secret', status: 'called', counter: '1', calledAt: new Date() });
    await ticket({ patientId: 'p-hidden', lane: 'svip' });
    const res = await board();
    assert.equal(res.status, 200);
    assert.doesNotMatch(JSON.stringify(res.body), /p-secret|p-hidden|patientId|bookingId|ticketId|svip/);
    assert.equal((await call(fn.url, { token: patientToken(), query: { branchId: BRANCH } })).status, 200);
  });

  it('answers bad queries with 4xx problem+json naming the field', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 400, 'query/branchId'],
      [{ branchId: '' }, 400, 'query/branchId'],
      [{ branchId: BRANCH, patientId: 'p-1' }, 400, 'query/patientId'],
      [{ branchId: 'nowhere' }, 404, 'query/branchId'],
    ];
    for (const [query, status, field] of cases) {
      const res = await call(fn.url, { query });
      assert.equal(res.status, status, `${JSON.stringify(query)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });
});
