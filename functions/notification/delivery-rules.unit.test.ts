import { strict as assert } from 'node:assert';
import { advance, nextAttemptAt, nextChannel, fromProviderStatus, BACKOFF_SECONDS, MAX_ATTEMPTS } from './delivery-rules';

describe('delivery rules (no database)', () => {
  it('a status only moves forward: queued < sent < delivered < read', () => {
    assert.equal(advance('queued', 'sent'), 'sent');
    assert.equal(advance('sent', 'delivered'), 'delivered');
    assert.equal(advance('queued', 'delivered'), 'delivered', 'a skipped step is fine');
    assert.equal(advance('delivered', 'read'), 'read');
    assert.equal(advance('delivered', 'sent'), undefined, 'a late sent after delivered changes nothing');
    assert.equal(advance('read', 'delivered'), undefined);
    assert.equal(advance('delivered', 'delivered'), undefined, 'the same report twice changes nothing');
  });

  it('undelivered and failed end a delivery that had not arrived, and nothing moves it after', () => {
    assert.equal(advance('sent', 'undelivered'), 'undelivered');
    assert.equal(advance('queued', 'failed'), 'failed');
    assert.equal(advance('delivered', 'undelivered'), undefined, 'a late failure after delivered changes nothing');
    assert.equal(advance('undelivered', 'delivered'), undefined);
    assert.equal(advance('failed', 'sent'), undefined);
    assert.equal(advance('undelivered', 'failed'), undefined);
  });

  it('backs off 15 s doubling to 8 min: 8 retries over about 32 minutes, then gives up', () => {
    const now = new Date('2026-12-08T02:00:00Z');
    const middle = () => 0.5; // no jitter
    const waits = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => (nextAttemptAt(i + 1, now, undefined, middle)!.getTime() - now.getTime()) / 1000);
    assert.deepEqual(waits, [...BACKOFF_SECONDS]);
    assert.equal(waits.length, 8);
    assert.equal(waits.reduce((a, b) => a + b, 0), 1905);
    assert.equal(nextAttemptAt(MAX_ATTEMPTS, now), undefined, 'after the 9th attempt there is no next');
  });

  it('jitter stays within ±10 %, and a provider\'s longer Retry-After wins', () => {
    const now = new Date(0);
    assert.equal(nextAttemptAt(1, now, undefined, () => 0)!.getTime(), 13_500);
    assert.equal(nextAttemptAt(1, now, undefined, () => 1)!.getTime(), 16_500);
    assert.equal(nextAttemptAt(1, now, 120, () => 0.5)!.getTime(), 120_000);
    assert.equal(nextAttemptAt(3, now, 5, () => 0.5)!.getTime(), 60_000);
  });

  it('fails over to the next channel of the plan not yet tried, never to in-app', () => {
    const plan = ['in-app', 'sms', 'email', 'push'];
    assert.equal(nextChannel(plan, 'sms', ['in-app', 'sms']), 'email');
    assert.equal(nextChannel(plan, 'email', ['in-app', 'sms', 'email']), 'push');
    assert.equal(nextChannel(plan, 'push', ['in-app', 'sms', 'email', 'push']), undefined);
    assert.equal(nextChannel(['in-app', 'sms'], 'sms', ['in-app', 'sms']), undefined);
    assert.equal(nextChannel(plan, 'sms', ['in-app', 'sms', 'email']), 'push', 'a channel that already has a delivery is skipped');
  });

  it('reads a Twilio MessageStatus in our words', () => {
    assert.equal(fromProviderStatus('sending'), 'sent');
    assert.equal(fromProviderStatus('canceled'), 'failed');
    assert.equal(fromProviderStatus('delivered'), 'delivered');
    assert.equal(fromProviderStatus('received'), undefined);
  });
});
