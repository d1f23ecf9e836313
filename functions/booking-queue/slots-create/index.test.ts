import { strict as assert } from 'node:assert';
import * as slotsCreate from './index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, startFunction, call, patientToken, staffToken, token, hoursFromNow, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

describe('slots-create (POST /api/slots)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(slotsCreate); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const tomorrow9 = () => hoursFromNow(24).toISOString();
  const slot = (extra: Record<string, unknown> = {}) => ({ branchId: BRANCH, serviceId: 'blood-draw', startsAt: tomorrow9(), capacity: 6, ...extra });

  it('staff open a slot at their branch: 201 with an open, empty slot lasting the service duration', async () => {
    const startsAt = tomorrow9();
    const res = await call(fn.url, { token: staffToken(), body: slot({ startsAt }) });
    assert.equal(res.status, 201);
    const { slotId, ...opened } = res.body;
    assert.match(slotId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(opened, {
      branchId: BRANCH, serviceId: 'blood-draw', startsAt,
      endsAt: new Date(Date.parse(startsAt) + 5 * 60_000).toISOString(), capacity: 6, booked: 0, status: 'open',
    });
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slotId } })).capacity, 6);
  });

  it('durationMinutes overrides the service duration', async () => {
    const res = await call(fn.url, { token: token('service', 'scheduler'), body: slot({ durationMinutes: 45 }) });
    assert.equal(res.status, 201);
    assert.equal(Date.parse(res.body.endsAt) - Date.parse(res.body.startsAt), 45 * 60_000);
  });

  it('a second slot of the same service, branch and start is a 409 naming startsAt', async () => {
    const startsAt = tomorrow9();
    assert.equal((await call(fn.url, { token: staffToken(), body: slot({ startsAt }) })).status, 201);
    const res = await call(fn.url, { token: staffToken(), body: slot({ startsAt, capacity: 2 }) });
    assert.equal(res.status, 409);
    assert.equal(res.body['invalid-params'][0].name, 'body/startsAt');
    assert.equal(await db().slot.count(), 1);
  });

  it('the same start for another service is a separate slot', async () => {
    const startsAt = tomorrow9();
    assert.equal((await call(fn.url, { token: staffToken(), body: slot({ startsAt }) })).status, 201);
    assert.equal((await call(fn.url, { token: staffToken(), body: slot({ startsAt, serviceId: 'check-up' }) })).status, 201);
  });

  it('a start in the past is a 400 naming startsAt', async () => {
    const res = await call(fn.url, { token: staffToken(), body: slot({ startsAt: hoursFromNow(-1).toISOString() }) });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'body/startsAt');
  });

  it('an unknown branch or service is a 404 naming the field', async () => {
    const branch = await call(fn.url, { token: token('service', 'scheduler'), body: slot({ branchId: 'nowhere' }) });
    assert.equal(branch.status, 404);
    assert.equal(branch.body['invalid-params'][0].name, 'body/branchId');
    const service = await call(fn.url, { token: staffToken(), body: slot({ serviceId: 'x-ray' }) });
    assert.equal(service.status, 404);
    assert.equal(service.body['invalid-params'][0].name, 'body/serviceId');
  });

  it('answers bad input with 400 problem+json naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ branchId: undefined }, 'body/branchId'],
      [{ startsAt: '2026-13-01 09:00' }, 'body/startsAt'],
      [{ startsAt: undefined }, 'body/startsAt'],
      [{ capacity: 0 }, 'body/capacity'],
      [{ capacity: 501 }, 'body/capacity'],
      [{ capacity: 2.5 }, 'body/capacity'],
      [{ durationMinutes: 4 }, 'body/durationMinutes'],
      [{ durationMinutes: 481 }, 'body/durationMinutes'],
      [{ booked: 3 }, 'body/booked'],
    ];
    for (const [change, field] of cases) {
      const res = await call(fn.url, { token: staffToken(), body: slot(change) });
      assert.equal(res.status, 400, JSON.stringify(change));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal(await db().slot.count(), 0);
  });

  it('staff open slots at their own branch only; patients never; a token is required', async () => {
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body: slot() })).status, 403);
    assert.equal((await call(fn.url, { token: patientToken(), body: slot() })).status, 403);
    assert.equal((await call(fn.url, { body: slot() })).status, 401);
    assert.equal((await call(fn.url, { token: token('staff', 'roaming-nurse'), body: slot({ branchId: OTHER_BRANCH }) })).status, 201);
    assert.equal(await db().slot.count(), 1);
  });
});
