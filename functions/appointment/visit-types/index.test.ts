import { strict as assert } from 'node:assert';
import * as visitTypes from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic } from '../../../test/support/clinic';

describe('appointment-visit-types (GET /api/appointments/visit-types)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(visitTypes); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('lists the visit types anyone can book, with what each needs; withdrawn ones only when asked', async () => {
    await db().visitType.update({ where: { id: 'cardio-paid' }, data: { active: false } });
    const res = await call(fn.url);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.visitTypes.map((v: { visitTypeId: string }) => v.visitTypeId), ['annual-checkup', 'gp-consult']);
    assert.deepEqual(res.body.visitTypes[0].requirements.map((r: { kind: string }) => r.kind), ['practitioner', 'room', 'device']);
    assert.equal((await call(fn.url, { query: { includeInactive: 'true' } })).body.visitTypes.length, 3);
  });
});
