import { strict as assert } from 'node:assert';
import * as resourceSave from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, staffToken, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, adminToken, createAppointment, EVERY_DAY, RESOURCES } from '../../../test/support/clinic';

describe('appointment-resource-save (POST /api/appointments/resources)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(resourceSave); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const ultrasound = { branchId: BRANCH, kind: 'device', name: 'Ultrasound 1', capabilities: ['ultrasound'], hours: { 1: [['08:00', '12:00']], 2: [['08:00', '12:00']] } };

  it('an admin adds a device with its weekly hours', async () => {
    const res = await call(fn.url, { token: adminToken(), body: ultrasound });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.resource.name, res.body.resource.timezone, res.body.resource.active], ['Ultrasound 1', 'Asia/Ho_Chi_Minh', true]);
    assert.equal(await db().resource.count({ where: { branchId: BRANCH, kind: 'device' } }), 2);
  });

  it('shortening a doctor\'s hours names the visits now outside them, and moves none', async () => {
    const early = await createAppointment({ start: at(2, '07:30'), visitTypeId: 'gp-consult' });
    const late = await createAppointment({ start: at(2, '15:00'), visitTypeId: 'gp-consult' });
    const doctor = (await db().resourceBooking.findFirstOrThrow({ where: { appointmentId: early.id, resourceId: { in: [RESOURCES.drAn, RESOURCES.drBinh] } } })).resourceId;
    const afternoonsOnly = Object.fromEntries(Object.keys(EVERY_DAY).map((d) => [d, [['13:00', '17:00']]]));
    const doctorsName = doctor === RESOURCES.drAn ? 'Dr. An' : 'Dr. Binh';
    const res = await call(fn.url, { token: adminToken(), body: { resourceId: doctor, branchId: BRANCH, kind: 'practitioner', name: doctorsName, capabilities: ['general-practice'], hours: afternoonsOnly } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.visitsOutsideSchedule, [early.id]);
    assert.equal(await db().resourceBooking.count({ where: { appointmentId: { in: [early.id, late.id] }, releasedAt: null } }), 4, 'nothing moved');
  });

  it('hours that end before they start or overlap, or an unknown zone, are 400 naming the field', async () => {
    for (const [hours, field] of [[{ 1: [['12:00', '08:00']] }, 'body/hours'], [{ 1: [['08:00', '12:00'], ['11:00', '13:00']] }, 'body/hours'], [{ 8: [['08:00', '12:00']] }, 'body/hours'], [{ 1: [['8am', '12:00']] }, 'body/hours/1/0/0']] as const) {
      const res = await call(fn.url, { token: adminToken(), body: { ...ultrasound, hours } });
      assert.equal(res.status, 400, JSON.stringify(hours));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name.startsWith(field.split('/').slice(0, 2).join('/'))), JSON.stringify(res.body));
    }
    const zone = await call(fn.url, { token: adminToken(), body: { ...ultrasound, timezone: 'Asia/Atlantis' } });
    assert.deepEqual([zone.status, zone.body['invalid-params'][0].name], [400, 'body/timezone']);
  });

  it('needs the admin grant and the branch: staff without it 403, an admin of another branch 403, another branch\'s resource 404', async () => {
    assert.equal((await call(fn.url, { token: staffToken(), body: ultrasound })).status, 403);
    assert.equal((await call(fn.url, { token: adminToken(OTHER_BRANCH), body: ultrasound })).status, 403);
    const res = await call(fn.url, { token: adminToken(BRANCH), body: { ...ultrasound, resourceId: RESOURCES.otherBranchDoctor } });
    assert.equal(res.status, 404);
  });
});
