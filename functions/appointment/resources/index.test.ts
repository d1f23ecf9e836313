import { strict as assert } from 'node:assert';
import * as resources from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, RESOURCES } from '../../../test/support/clinic';

describe('appointment-resources (GET /api/appointments/resources)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(resources); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('lists a branch\'s resources with their hours and only the exceptions still ahead', async () => {
    await db().scheduleException.create({ data: { resourceId: RESOURCES.ecg, kind: 'closed', startsAt: at(3, '08:00'), endsAt: at(3, '10:00'), reason: 'calibration' } });
    await db().scheduleException.create({ data: { resourceId: RESOURCES.ecg, kind: 'closed', startsAt: at(-3, '08:00'), endsAt: at(-3, '10:00') } });
    const res = await call(fn.url, { token: staffToken(), query: { branchId: BRANCH } });
    assert.equal(res.status, 200);
    assert.equal(res.body.resources.length, 5);
    const ecg = res.body.resources.find((r: { resourceId: string }) => r.resourceId === RESOURCES.ecg);
    assert.deepEqual(ecg.hours['1'], [['07:00', '12:00'], ['13:00', '17:00']]);
    assert.deepEqual(ecg.exceptions.map((e: { reason?: string }) => e.reason), ['calibration']);
  });

  it('staff of another branch get 403; patients 403', async () => {
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), query: { branchId: BRANCH } })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken(), query: { branchId: BRANCH } })).status, 403);
  });
});
