import { strict as assert } from 'node:assert';
import * as list from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment } from '../../../test/support/clinic';

describe('appointment-list (GET /api/appointments)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(list); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('a patient sees only their own visits, soonest first; cancelled ones only when asked', async () => {
    const later = await createAppointment({ start: at(5, '09:00'), patientId: 'p-1' });
    const sooner = await createAppointment({ start: at(2, '09:00'), patientId: 'p-1' });
    await createAppointment({ start: at(3, '09:00'), patientId: 'p-2' });
    const cancelled = await createAppointment({ start: at(4, '09:00'), patientId: 'p-1' });
    await db().appointment.update({ where: { id: cancelled.id }, data: { status: 'cancelled', cancelReason: 'patient' } });
    const res = await call(fn.url, { token: patientToken('p-1') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.appointments.map((a: { appointmentId: string }) => a.appointmentId), [sooner.id, later.id]);
    const all = await call(fn.url, { token: patientToken('p-1'), query: { includeCancelled: 'true' } });
    assert.deepEqual(all.body.appointments.map((a: { status: string }) => a.status), ['booked', 'cancelled', 'booked']);
    assert.equal((await call(fn.url, { token: patientToken('p-1'), query: { patientId: 'p-2' } })).status, 403);
  });

  it('staff name the patient and see the visits at their branch; services see all', async () => {
    await createAppointment({ start: at(2, '09:00'), patientId: 'p-1' });
    const missing = await call(fn.url, { token: staffToken() });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [400, 'query/patientId']);
    assert.equal((await call(fn.url, { token: staffToken(), query: { patientId: 'p-1' } })).body.appointments.length, 1);
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), query: { patientId: 'p-1' } })).body.appointments.length, 0);
    assert.equal((await call(fn.url, { token: token('service', 'patient-booking'), query: { patientId: 'p-1' } })).body.appointments.length, 1);
    const backwards = await call(fn.url, { token: patientToken('p-1'), query: { from: at(3, '00:00').toISOString(), to: at(2, '00:00').toISOString() } });
    assert.deepEqual([backwards.status, backwards.body['invalid-params'][0].name], [400, 'query/to']);
  });
});
