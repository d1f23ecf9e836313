import { strict as assert } from 'node:assert';
import * as cancel from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, published, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment, RESOURCES } from '../../../test/support/clinic';

describe('appointment-cancel (POST /api/appointments/cancel)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(cancel); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const ecgHeld = () => db().resourceBooking.count({ where: { resourceId: RESOURCES.ecg, releasedAt: null } });

  it('a patient cancels their visit: cancelled with reason patient, every resource freed, the event says so', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup', patientId: 'p-1' });
    assert.equal(await ecgHeld(), 1);
    const res = await call(fn.url, { token: patientToken('p-1'), body: { appointmentId: visit.id, note: 'travelling' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.status, res.body.cancelReason, res.body.cancelNote], ['cancelled', 'patient', 'travelling']);
    assert.equal(await ecgHeld(), 0);
    const [event] = await published('appointment-events');
    assert.deepEqual([event.type, event.data.reason, event.data.cancelledBy, event.data.sameDay], ['com.medlab.appointment.cancelled', 'patient', 'patient', false]);
  });

  it('a cancellation under a day before the visit is flagged same-day (the patient must hear at once)', async () => {
    const visit = await createAppointment({ start: new Date(Date.now() + 3 * 3600_000 - ((Date.now() + 3 * 3600_000) % 900_000)), visitTypeId: 'gp-consult' }).catch(() => undefined);
    // Three hours ahead may fall outside the clinic's hours; any visit within the next day will do.
    const soon = visit ?? await createAppointment({ start: at(1, '08:00'), visitTypeId: 'gp-consult' });
    const res = await call(fn.url, { token: staffToken(), body: { appointmentId: soon.id, reason: 'provider' } });
    assert.equal(res.status, 200);
    const [event] = await published('appointment-events');
    assert.equal(event.data.reason, 'provider');
    assert.equal(event.data.sameDay, soon.startsAt.getTime() - Date.now() < 24 * 3600_000);
  });

  it('cancelling twice is 409 and frees nothing twice; a visit under way cannot be cancelled', async () => {
    const visit = await createAppointment({ start: at(3, '10:00') });
    assert.equal((await call(fn.url, { token: patientToken('patient-1'), body: { appointmentId: visit.id } })).status, 200);
    const again = await call(fn.url, { token: patientToken('patient-1'), body: { appointmentId: visit.id } });
    assert.equal(again.status, 409);
    assert.equal(again.body['invalid-params'][0].name, 'body/appointmentId');
    const arrived = await createAppointment({ start: at(3, '11:00'), status: 'arrived' });
    assert.equal((await call(fn.url, { token: staffToken(), body: { appointmentId: arrived.id } })).status, 409);
    assert.equal((await published('appointment-events')).length, 1);
  });

  it('a patient may only give the reason patient; staff of another branch and other patients see no such visit', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), patientId: 'p-1' });
    const clinic = await call(fn.url, { token: patientToken('p-1'), body: { appointmentId: visit.id, reason: 'clinic' } });
    assert.equal(clinic.status, 403);
    assert.equal(clinic.body['invalid-params'][0].name, 'body/reason');
    for (const t of [patientToken('p-2'), staffToken(OTHER_BRANCH)]) {
      const res = await call(fn.url, { token: t, body: { appointmentId: visit.id } });
      assert.equal(res.status, 404);
      assert.equal(res.body['invalid-params'][0].name, 'body/appointmentId');
    }
    const byService = await call(fn.url, { token: token('service', 'crm'), body: { appointmentId: visit.id, reason: 'clinic' } });
    assert.deepEqual([byService.status, byService.body.cancelReason], [200, 'clinic']);
  });

  it('answers bad input with 400 naming the field', async () => {
    for (const [body, field] of [[{}, 'body/appointmentId'], [{ appointmentId: 'x' }, 'body/appointmentId'], [{ appointmentId: RESOURCES.ecg, reason: 'weather' }, 'body/reason']] as const) {
      const res = await call(fn.url, { token: staffToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body['invalid-params'][0].name, field);
    }
  });
});
