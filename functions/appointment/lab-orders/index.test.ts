import { strict as assert } from 'node:assert';
import * as labOrders from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, staffToken, token, patientToken, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at } from '../../../test/support/clinic';

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('lab-orders (POST /api/appointments/lab-orders)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(labOrders); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('staff link an accession to a visit at their branch: 201 with the order, noted on the visit\'s timeline', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    const res = await call(fn.url, { token: staffToken(), body: { appointmentId: visit.id, accession: 'ACC-100' } });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { accession: 'ACC-100', appointmentId: visit.id, sampleStatus: 'ordered' });
    const entries = await db().timelineEntry.findMany({ where: { appointmentId: visit.id } });
    assert.deepEqual(entries.map((e) => [e.kind, e.by, e.detail]), [['lab-order-linked', 'staff:staff-hcm-d1', { accession: 'ACC-100' }]]);
  });

  it('the same link again is a 200 and changes nothing; the accession on another visit is a 409', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    const other = await createAppointment({ start: at(1, '10:00') });
    assert.equal((await call(fn.url, { token: staffToken(), body: { appointmentId: visit.id, accession: 'ACC-1' } })).status, 201);
    const again = await call(fn.url, { token: staffToken(), body: { appointmentId: visit.id, accession: 'ACC-1' } });
    assert.deepEqual([again.status, again.body.appointmentId], [200, visit.id]);
    const elsewhere = await call(fn.url, { token: staffToken(), body: { appointmentId: other.id, accession: 'ACC-1' } });
    assert.equal(elsewhere.status, 409);
    assert.equal(elsewhere.body['invalid-params'][0].name, 'body/accession');
    assert.equal((await db().labOrder.findUniqueOrThrow({ where: { accession: 'ACC-1' } })).appointmentId, visit.id);
    assert.equal(await db().timelineEntry.count(), 1);
  });

  it('concurrent links of one accession: one 201, the rest 200 (same visit)', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(fn.url, { token: staffToken(), body: { appointmentId: visit.id, accession: 'ACC-9' } })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
  });

  it('an unknown visit, or one at another branch, is a 404 naming appointmentId; a service links anywhere', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    for (const [who, appointmentId] of [[staffToken(), MISSING], [staffToken(OTHER_BRANCH), visit.id]] as const) {
      const res = await call(fn.url, { token: who, body: { appointmentId, accession: 'ACC-2' } });
      assert.equal(res.status, 404);
      assert.equal(res.body['invalid-params'][0].name, 'body/appointmentId');
    }
    assert.equal((await call(fn.url, { token: token('service', 'lis-bridge'), body: { appointmentId: visit.id, accession: 'ACC-2' } })).status, 201);
  });

  it('patients may not link; no token is a 401; bad input is a 400 naming the field', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    assert.equal((await call(fn.url, { token: patientToken(visit.patientId), body: { appointmentId: visit.id, accession: 'ACC-3' } })).status, 403);
    assert.equal((await call(fn.url, { body: { appointmentId: visit.id, accession: 'ACC-3' } })).status, 401);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ accession: 'ACC-3' }, 'body/appointmentId'],
      [{ appointmentId: 'x', accession: 'ACC-3' }, 'body/appointmentId'],
      [{ appointmentId: visit.id }, 'body/accession'],
      [{ appointmentId: visit.id, accession: 'ACC 3' }, 'body/accession'],
      [{ appointmentId: visit.id, accession: 'A'.repeat(101) }, 'body/accession'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal(await db().labOrder.count(), 0);
  });
});
