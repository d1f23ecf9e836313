import { strict as assert } from 'node:assert';
import * as detail from './index';
import * as cancel from '../cancel/index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, createAppointment } from '../../../test/support/clinic';

describe('appointment-detail (GET /api/appointments/detail)', () => {
  let fn: RunningFunction;
  let cancelling: RunningFunction;
  before(async () => { [fn, cancelling] = await Promise.all([startFunction(detail), startFunction(cancel)]); });
  after(async () => { await fn.close(); await cancelling.close(); });
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('shows the visit with its resources, its timeline in order, and its lab and POS orders', async () => {
    const visit = await createAppointment({ start: at(2, '09:00'), visitTypeId: 'annual-checkup', patientId: 'p-1' });
    await db().labOrder.create({ data: { accession: 'ACC-1', appointmentId: visit.id, sampleStatus: 'collected', orderStatus: 'IP' } });
    await db().posOrder.create({ data: { orderId: 'POS-1', appointmentId: visit.id, status: 'paid', amount: 450000n } });
    await call(cancelling.url, { token: patientToken('p-1'), body: { appointmentId: visit.id } });
    const res = await call(fn.url, { token: patientToken('p-1'), query: { appointmentId: visit.id } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.appointment.status, 'cancelled');
    assert.deepEqual(res.body.appointment.resourceIds, [], 'a cancelled visit holds nothing');
    assert.deepEqual(res.body.timeline.map((t: { kind: string }) => t.kind), ['cancelled']);
    assert.deepEqual(res.body.labOrders, [{ accession: 'ACC-1', sampleStatus: 'collected', orderStatus: 'IP' }]);
    assert.deepEqual(res.body.posOrders, [{ orderId: 'POS-1', status: 'paid', amount: 450000, currency: 'VND' }]);
  });

  it('another patient, or staff of another branch, get the same 404 as for a missing visit', async () => {
    const visit = await createAppointment({ start: at(2, '09:00'), patientId: 'p-1' });
    assert.equal((await call(fn.url, { token: staffToken(), query: { appointmentId: visit.id } })).status, 200);
    for (const t of [patientToken('p-2'), staffToken(OTHER_BRANCH)]) {
      const res = await call(fn.url, { token: t, query: { appointmentId: visit.id } });
      assert.deepEqual([res.status, res.body['invalid-params'][0].name], [404, 'query/appointmentId']);
    }
  });
});
