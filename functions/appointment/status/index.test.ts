import { strict as assert } from 'node:assert';
import * as status from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, published, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment } from '../../../test/support/clinic';

describe('appointment-status (POST /api/appointments/status)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(status); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const set = (appointmentId: string, to: string, t = staffToken()) => call(fn.url, { token: t, body: { appointmentId, status: to } });

  it('the front desk walks a visit through arrived, checked-in and fulfilled, each move an event', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    for (const to of ['arrived', 'checked-in', 'fulfilled']) assert.equal((await set(visit.id, to)).body.status, to);
    const events = await published('appointment-events');
    assert.deepEqual(events.map((e) => [e.data.previousStatus, e.data.status]), [['booked', 'arrived'], ['arrived', 'checked-in'], ['checked-in', 'fulfilled']]);
  });

  it('moves FHIR does not allow are 409 naming body/status; noshow and entered-in-error free the resources', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    // Seen without ever arriving: not a move FHIR's workflow has.
    const skipped = await set(visit.id, 'fulfilled');
    assert.deepEqual([skipped.status, skipped.body['invalid-params'][0].name], [409, 'body/status']);
    assert.match(skipped.body.detail, /a booked appointment cannot become fulfilled/);
    await set(visit.id, 'arrived');
    assert.equal((await set(visit.id, 'noshow')).status, 409, 'an arrived patient is no no-show');
    const missed = await createAppointment({ start: at(1, '10:00') });
    assert.equal((await set(missed.id, 'noshow')).body.status, 'noshow');
    assert.equal(await db().resourceBooking.count({ where: { appointmentId: missed.id, releasedAt: null } }), 0);
  });

  it('only staff of the visit\'s branch and services; patients are refused', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    assert.equal((await set(visit.id, 'arrived', patientToken())).status, 403);
    assert.equal((await set(visit.id, 'arrived', staffToken(OTHER_BRANCH))).status, 404);
    assert.equal((await set(visit.id, 'waitlist')).status, 400);
  });
});
