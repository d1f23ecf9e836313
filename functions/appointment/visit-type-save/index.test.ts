import { strict as assert } from 'node:assert';
import * as visitTypeSave from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, adminToken } from '../../../test/support/clinic';

describe('appointment-visit-type-save (POST /api/appointments/visit-types)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(visitTypeSave); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const echo = { visitTypeId: 'echo', name: 'Echocardiogram', durationMinutes: 45, requirements: [{ kind: 'practitioner', capability: 'cardiology' }, { kind: 'device', capability: 'ultrasound' }] };

  it('an admin defines a visit type (201), then changes it (200)', async () => {
    assert.equal((await call(fn.url, { token: adminToken(), body: echo })).status, 201);
    const changed = await call(fn.url, { token: adminToken(), body: { ...echo, durationMinutes: 60, requiresPayment: true } });
    assert.deepEqual([changed.status, changed.body.durationMinutes, changed.body.requiresPayment], [200, 60, true]);
    assert.equal((await db().visitType.findUniqueOrThrow({ where: { id: 'echo' } })).durationMinutes, 60);
  });

  it('refuses what cannot be booked, naming the field; needs the admin grant', async () => {
    for (const [body, field] of [[{ ...echo, requirements: [] }, 'body/requirements'], [{ ...echo, durationMinutes: 0 }, 'body/durationMinutes'], [{ ...echo, requirements: [{ kind: 'robot' }] }, 'body/requirements.0.kind']] as const) {
      const res = await call(fn.url, { token: adminToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { token: staffToken(), body: echo })).status, 403);
  });
});
