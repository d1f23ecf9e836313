import { strict as assert } from 'node:assert';
import * as save from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';

describe('notification-preference-save (POST /api/notifications/preferences)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(save); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('saves a category\'s channels in order with quiet hours across midnight; saving again replaces them', async () => {
    const first = await call(fn.url, { token: patientToken('p-1'), body: { category: 'appointment', channels: ['sms', 'in-app', 'email'], quietHours: { start: '21:30', end: '06:45' } } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([first.body.category, first.body.channels, first.body.quietHours], ['appointment', ['sms', 'in-app', 'email'], { start: '21:30', end: '06:45' }]);
    const again = await call(fn.url, { token: patientToken('p-1'), body: { category: 'appointment', channels: ['in-app', 'email'] } });
    assert.deepEqual([again.body.channels, again.body.quietHours], [['in-app', 'email'], null]);
    const stored = await db().preference.findMany({ where: { patientId: 'p-1' } });
    assert.deepEqual(stored.map((p) => [p.category, p.channels, p.quietStart, p.quietEnd]), [['appointment', ['in-app', 'email'], null, null]]);
  });

  it('the in-app inbox cannot be removed, and quiet hours must be HH:MM pairs that differ: 400 naming the field, nothing saved', async () => {
    for (const [body, field] of [
      [{ category: 'results', channels: ['sms', 'email'] }, 'body/channels'],
      [{ category: 'results', channels: ['in-app', 'fax'] }, 'body/channels.1'],
      [{ category: 'results', channels: ['in-app', 'sms', 'sms'] }, 'body/channels'],
      [{ category: 'results', channels: ['in-app'], quietHours: { start: '24:00', end: '07:00' } }, 'body/quietHours.start'],
      [{ category: 'results', channels: ['in-app'], quietHours: { start: '22:00', end: '7:00' } }, 'body/quietHours.end'],
      [{ category: 'lottery', channels: ['in-app'] }, 'body/category'],
      [{ category: 'operations', channels: ['in-app'] }, 'body/category'],
    ] as const) {
      const res = await call(fn.url, { token: patientToken('p-1'), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
    assert.equal(await db().preference.count(), 0);
  });

  it('is for patients only, each for themselves', async () => {
    assert.equal((await call(fn.url, { token: staffToken(), body: { category: '*', channels: ['in-app'] } })).status, 403);
    const res = await call(fn.url, { token: patientToken('p-1'), body: { category: '*', channels: ['in-app'], patientId: 'p-2' } });
    assert.deepEqual([res.status, res.body['invalid-params'][0].name], [400, 'body/patientId']);
  });
});
