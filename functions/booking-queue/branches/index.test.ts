import { strict as assert } from 'node:assert';
import * as branches from './index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, startFunction, call, patientToken, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

describe('branches (GET /api/branches)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(branches); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('lists every branch by name with its timezone, lane order and the services it offers, without a token', async () => {
    const res = await call(fn.url);
    assert.equal(res.status, 200);
    const services = [
      { serviceId: 'blood-draw', name: 'Blood draw', durationMinutes: 5, ticketPrefix: 'A', requiresConfirmation: false },
      { serviceId: 'check-up', name: 'General check-up', durationMinutes: 20, ticketPrefix: 'B', requiresConfirmation: true },
    ];
    const lanes = ['svip', 'vip', 'booked', 'walkin'];
    assert.deepEqual(res.body, {
      branches: [
        { branchId: OTHER_BRANCH, name: 'Ba Dinh', timezone: 'Asia/Ho_Chi_Minh', laneOrder: lanes, services },
        { branchId: BRANCH, name: 'District 1', timezone: 'Asia/Ho_Chi_Minh', laneOrder: lanes, services },
      ],
    });
  });

  it('shows a branch\'s own lane order and timezone', async () => {
    await db().branch.update({ where: { id: BRANCH }, data: { laneOrder: ['svip', 'booked', 'vip', 'walkin'], timezone: 'Asia/Bangkok' } });
    const here = (await call(fn.url, { token: patientToken() })).body.branches.find((b: { branchId: string }) => b.branchId === BRANCH);
    assert.deepEqual([here.timezone, here.laneOrder], ['Asia/Bangkok', ['svip', 'booked', 'vip', 'walkin']]);
  });

  it('an empty catalogue is an empty list', async () => {
    await resetDatabase();
    assert.deepEqual((await call(fn.url)).body, { branches: [] });
  });

  it('is read-only: POST is a 405 problem', async () => {
    const res = await call(fn.url, { method: 'POST', body: {} });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
  });
});
