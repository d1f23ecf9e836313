import { strict as assert } from 'node:assert';
import * as subscribe from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';

const keys = () => ({ p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url'), auth: Buffer.alloc(16, 3).toString('base64url') });
const subscription = (endpoint = 'https://fcm.googleapis.com/fcm/send/abc123') => ({ endpoint, expirationTime: null, keys: keys() });

describe('notification-push-subscribe (POST /api/notifications/push-subscriptions)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(subscribe); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('registers the browser\'s subscription (201); the same endpoint again is 200 and still one subscription', async () => {
    const first = await call(fn.url, { token: patientToken('p-1'), body: subscription() });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await call(fn.url, { token: patientToken('p-1'), body: { ...subscription(), keys: { ...keys(), auth: Buffer.alloc(16, 5).toString('base64url') } } });
    assert.equal(again.status, 200);
    assert.equal(again.body.subscriptionId, first.body.subscriptionId);
    const rows = await db().pushSubscription.findMany();
    assert.deepEqual(rows.map((r) => [r.patientId, r.auth]), [['p-1', Buffer.alloc(16, 5).toString('base64url')]]);
  });

  it('an endpoint the push service gave up on is live again; a shared browser\'s endpoint goes to whoever registers it', async () => {
    await call(fn.url, { token: patientToken('p-1'), body: subscription() });
    await db().pushSubscription.updateMany({ data: { goneAt: new Date() } });
    const res = await call(fn.url, { token: patientToken('p-2'), body: subscription() });
    assert.equal(res.status, 200);
    const [row] = await db().pushSubscription.findMany();
    assert.deepEqual([row.patientId, row.goneAt], ['p-2', null]);
  });

  it('racing registrations of one endpoint make one subscription', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(fn.url, { token: patientToken('p-1'), body: subscription() })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
    assert.equal(await db().pushSubscription.count(), 1);
  });

  it('an endpoint that is not a push service\'s, or keys of the wrong size, are 400 naming the field', async () => {
    for (const [body, field] of [
      [subscription('http://fcm.googleapis.com/fcm/send/x'), 'body/endpoint'],
      [subscription('https://10.0.0.5/push'), 'body/endpoint'],
      [subscription('https://kafka.patient-portal.svc.cluster.local/x'), 'body/endpoint'],
      [subscription('not a url'), 'body/endpoint'],
      [{ ...subscription(), keys: { ...keys(), p256dh: Buffer.alloc(65, 5).toString('base64url') } }, 'body/keys.p256dh'],
      [{ ...subscription(), keys: { ...keys(), auth: Buffer.alloc(20, 1).toString('base64url') } }, 'body/keys.auth'],
      [{ endpoint: 'https://fcm.googleapis.com/fcm/send/x' }, 'body/keys'],
    ] as const) {
      const res = await call(fn.url, { token: patientToken('p-1'), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body['invalid-params'][0].name, field, JSON.stringify(res.body));
    }
    assert.equal(await db().pushSubscription.count(), 0);
  });

  it('the laptop\'s catcher (http on this machine) is accepted outside production; staff cannot register', async () => {
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: subscription('http://127.0.0.1:8080/push/p-1') })).status, 201);
    assert.equal((await call(fn.url, { token: staffToken(), body: subscription() })).status, 403);
  });
});
