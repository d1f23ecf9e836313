import { strict as assert } from 'node:assert';
import * as day from './index';
import { resetDatabase, startFunction, call, patientToken, staffToken, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, localDay, createAppointment, RESOURCES } from '../../../test/support/clinic';

describe('appointment-day (GET /api/appointments/day)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(day); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('shows each resource of the branch with its working hours and the visits holding it', async () => {
    const checkup = await createAppointment({ start: at(2, '09:00'), visitTypeId: 'annual-checkup', patientId: 'p-1' });
    await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup', patientId: 'p-2' });
    const res = await call(fn.url, { token: staffToken(), query: { branchId: BRANCH, date: localDay(2) } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.resources.map((r: { kind: string; name: string }) => `${r.kind}:${r.name}`),
      ['practitioner:Dr. An', 'practitioner:Dr. Binh', 'room:Exam room 1', 'room:Exam room 2', 'device:ECG 1']);
    const ecg = res.body.resources.find((r: { resourceId: string }) => r.resourceId === RESOURCES.ecg);
    assert.deepEqual(ecg.working, [{ start: at(2, '07:00').toISOString(), end: at(2, '12:00').toISOString() }, { start: at(2, '13:00').toISOString(), end: at(2, '17:00').toISOString() }]);
    assert.deepEqual(ecg.appointments.map((a: { appointmentId: string }) => a.appointmentId), [checkup.id]);
    const busy = res.body.resources.filter((r: { appointments: unknown[] }) => r.appointments.length).length;
    assert.equal(busy, 3, 'a doctor, a room and the ECG');
  });

  it('staff see their own branch only; patients not at all', async () => {
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), query: { branchId: BRANCH, date: localDay(1) } })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken(), query: { branchId: BRANCH, date: localDay(1) } })).status, 403);
    const bad = await call(fn.url, { token: staffToken(), query: { branchId: BRANCH, date: 'tomorrow' } });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'query/date']);
  });
});
