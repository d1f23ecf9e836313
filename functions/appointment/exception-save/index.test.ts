import { strict as assert } from 'node:assert';
import * as exceptionSave from './index';
import { resetDatabase, startFunction, call, staffToken, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, adminToken, createAppointment, RESOURCES } from '../../../test/support/clinic';

describe('appointment-exception-save (POST /api/appointments/resources/exceptions)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(exceptionSave); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('closing the ECG for maintenance names the check-ups it leaves without their device', async () => {
    const inside = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup' });
    await createAppointment({ start: at(3, '14:00'), visitTypeId: 'annual-checkup', patientId: 'p-2' });
    const res = await call(fn.url, { token: adminToken(), body: { resourceId: RESOURCES.ecg, kind: 'closed', start: at(3, '08:00').toISOString(), end: at(3, '12:00').toISOString(), reason: 'maintenance' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.visitsOutsideSchedule, [inside.id]);
  });

  it('an end not after the start is 400 naming body/end; another branch\'s resource 404; no admin grant 403', async () => {
    const backwards = await call(fn.url, { token: adminToken(), body: { resourceId: RESOURCES.ecg, kind: 'closed', start: at(3, '10:00').toISOString(), end: at(3, '09:00').toISOString() } });
    assert.deepEqual([backwards.status, backwards.body['invalid-params'][0].name], [400, 'body/end']);
    const body = { resourceId: RESOURCES.ecg, kind: 'open', start: at(3, '18:00').toISOString(), end: at(3, '20:00').toISOString() };
    assert.equal((await call(fn.url, { token: adminToken(OTHER_BRANCH), body })).status, 404);
    assert.equal((await call(fn.url, { token: staffToken(), body })).status, 403);
  });
});
