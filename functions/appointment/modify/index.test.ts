import { strict as assert } from 'node:assert';
import * as modify from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, published, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment, RESOURCES } from '../../../test/support/clinic';

describe('appointment-modify (POST /api/appointments/modify)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(modify); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('a GP consultation becomes an annual check-up: the ECG is added at the same start and the visit is longer', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'gp-consult' });
    const res = await call(fn.url, { token: patientToken(), body: { appointmentId: visit.id, visitTypeId: 'annual-checkup', notes: 'add ECG' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.visitTypeId, res.body.start, res.body.end, res.body.notes], ['annual-checkup', at(3, '09:00').toISOString(), at(3, '09:30').toISOString(), 'add ECG']);
    assert.ok(res.body.resourceIds.includes(RESOURCES.ecg));
    const [event] = await published('appointment-events');
    assert.deepEqual([event.type, event.data.change], ['com.medlab.appointment.changed', 'modified']);
  });

  it('when the ECG is taken the change is 409 and the visit keeps what it had', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'gp-consult' });
    await createAppointment({ start: at(3, '09:00'), visitTypeId: 'cardio-paid', patientId: 'p-2' });
    const res = await call(fn.url, { token: patientToken(), body: { appointmentId: visit.id, visitTypeId: 'annual-checkup' } });
    assert.equal(res.status, 409);
    assert.equal((await db().appointment.findUniqueOrThrow({ where: { id: visit.id } })).visitTypeId, 'gp-consult');
    assert.equal(await db().resourceBooking.count({ where: { appointmentId: visit.id, releasedAt: null } }), 2);
  });

  it('notes alone change without touching resources; nothing to change is 400', async () => {
    const visit = await createAppointment({ start: at(3, '09:00') });
    const res = await call(fn.url, { token: patientToken(), body: { appointmentId: visit.id, notes: 'wheelchair access' } });
    assert.deepEqual([res.status, res.body.notes, res.body.resourceIds.length], [200, 'wheelchair access', 2]);
    assert.equal((await call(fn.url, { token: patientToken(), body: { appointmentId: visit.id } })).status, 400);
    const unknown = await call(fn.url, { token: patientToken(), body: { appointmentId: visit.id, visitTypeId: 'nope' } });
    assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [404, 'body/visitTypeId']);
  });
});
