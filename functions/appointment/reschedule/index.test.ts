import { strict as assert } from 'node:assert';
import * as reschedule from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, published, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment, doubleBookings, RESOURCES } from '../../../test/support/clinic';

describe('appointment-reschedule (POST /api/appointments/reschedule)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(reschedule); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const move = (appointmentId: string, start: Date, patient = 'patient-1') => call(fn.url, { token: patientToken(patient), body: { appointmentId, start: start.toISOString() } });
  const holding = (appointmentId: string) => db().resourceBooking.findMany({ where: { appointmentId, releasedAt: null } });

  it('moves a visit: the new time is taken, the old one freed, the change goes out with the previous start', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup' });
    const res = await move(visit.id, at(4, '14:00'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.start, res.body.end, res.body.status], [at(4, '14:00').toISOString(), at(4, '14:30').toISOString(), 'booked']);
    const held = await holding(visit.id);
    assert.equal(held.length, 3);
    assert.ok(held.every((h) => h.startsAt.getTime() === at(4, '14:00').getTime()));
    const [event] = await published('appointment-events');
    assert.deepEqual([event.type, event.data.change, event.data.previousStart], ['com.medlab.appointment.changed', 'rescheduled', at(3, '09:00').toISOString()]);
  });

  it('the visit does not block its own new time: a move by 15 minutes overlapping itself on the one ECG succeeds', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup' });
    const res = await move(visit.id, at(3, '09:15'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await doubleBookings(), 0);
  });

  it('a move to a taken time is 409 and changes nothing: the old time stays the patient\'s', async () => {
    const visit = await createAppointment({ start: at(3, '09:00'), visitTypeId: 'annual-checkup', patientId: 'patient-1' });
    await createAppointment({ start: at(3, '11:00'), visitTypeId: 'annual-checkup', patientId: 'p-2' });
    const res = await move(visit.id, at(3, '11:15'));
    assert.equal(res.status, 409);
    assert.equal(res.body['invalid-params'][0].name, 'body/start');
    const held = await holding(visit.id);
    assert.deepEqual([held.length, held[0].startsAt.getTime()], [3, at(3, '09:00').getTime()]);
    assert.equal((await db().appointment.findUniqueOrThrow({ where: { id: visit.id } })).startsAt.getTime(), at(3, '09:00').getTime());
    assert.equal((await published('appointment-events')).length, 0);
  });

  it('outside the schedule is 400 naming body/start; a cancelled visit or another patient\'s cannot be moved', async () => {
    const visit = await createAppointment({ start: at(3, '09:00') });
    const lunch = await move(visit.id, at(3, '12:30'));
    assert.deepEqual([lunch.status, lunch.body['invalid-params'][0].name], [400, 'body/start']);
    assert.equal((await move(visit.id, at(4, '09:00'), 'p-other')).status, 404);
    await db().appointment.update({ where: { id: visit.id }, data: { status: 'cancelled' } });
    assert.equal((await move(visit.id, at(4, '09:00'))).status, 409);
    assert.equal((await db().resourceBooking.count({ where: { resourceId: RESOURCES.ecg } })), 0);
  });

  it('a reminder already sent for the old time is sent again for the new one', async () => {
    const visit = await createAppointment({ start: at(3, '09:00') });
    await db().appointment.update({ where: { id: visit.id }, data: { reminded24hAt: new Date() } });
    await move(visit.id, at(5, '09:00'));
    assert.equal((await db().appointment.findUniqueOrThrow({ where: { id: visit.id } })).reminded24hAt, null);
  });
});
