import { strict as assert } from 'node:assert';
import * as pushKey from './index';
import { DEV_VAPID_PUBLIC_KEY, isVapidPublicKey, vapidPublicKey } from './index';
import { startFunction, call, type RunningFunction } from '../../../test/support/fixtures';

describe('notification-push-key (GET /api/notifications/push-key)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(pushKey); });
  after(async () => fn.close());
  afterEach(() => { delete process.env.VAPID_PUBLIC_KEY; });

  it('answers anyone the VAPID public key, cacheable; outside production a fixed dev key', async () => {
    const res = await call(fn.url);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { publicKey: DEV_VAPID_PUBLIC_KEY });
    assert.ok(isVapidPublicKey(res.body.publicKey));
    assert.match(res.headers.get('cache-control') ?? '', /max-age=3600/);
  });

  it('VAPID_PUBLIC_KEY when set; a key that is not an uncompressed P-256 point is refused, as is none in production', () => {
    const other = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
    process.env.VAPID_PUBLIC_KEY = other;
    assert.equal(vapidPublicKey(), other);
    process.env.VAPID_PUBLIC_KEY = Buffer.alloc(65, 7).toString('base64url');
    assert.throws(vapidPublicKey, /VAPID_PUBLIC_KEY/);
    delete process.env.VAPID_PUBLIC_KEY;
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try { assert.throws(vapidPublicKey, /VAPID_PUBLIC_KEY must be set/); } finally { process.env.NODE_ENV = env; }
  });
});
