import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { standInConsumer, keepLetter, historyOf, type StandInConsumer, type LetterOptions } from '../../../test/support/dead-letters';

describe('dead-letter-retry-consumer (KafkaSource on dead-letter-retries)', () => {
  let retries: RunningFunction;
  let consumer: StandInConsumer;
  before(async () => { retries = await startFunction(fn); consumer = await standInConsumer(); });
  after(async () => { await retries.close(); await consumer.close(); });
  beforeEach(async () => { await resetDatabase(); consumer.received.length = 0; });

  /** A letter the cron has queued: retrying, its retry due a moment ago. */
  const queued = (o: Partial<LetterOptions> & { dest: string }) => keepLetter({ status: 'retrying', nextRetryAt: new Date(Date.now() - 1000), ...o });
  const due = (letterId: string, retry: number, id = randomUUID()) => deliver(retries.url, { id, type: 'com.medlab.dead-letter.retry-due', source: '/dead-letter/dead-letter-cron', data: { letterId, retry } });
  const letter = (id: string) => db().deadLetter.findUniqueOrThrow({ where: { id } });

  it('a retry the consumer accepts resolves the letter, recorded as an automatic retry', async () => {
    const kept = await queued({ dest: `${consumer.url}/200` });
    const res = await due(kept.id, 1);
    assert.equal(res.status, 200);
    assert.equal(res.body.result.outcome, 'delivered');
    const after = await letter(kept.id);
    assert.equal(after.status, 'resolved');
    assert.equal(after.resolution, 'auto-retry');
    assert.equal(after.retries, 1);
    assert.equal(after.nextRetryAt, null);
    assert.deepEqual((await historyOf(kept.id)).at(-1), ['auto-retry', 'delivered', 'dead-letter-retry-consumer', 200]);
    assert.equal(consumer.received[0].headers['ce-id'], (kept.event as { id: string }).id);
  });

  it('a failure that cannot heal (4xx) parks the letter at once, with no retry planned and no alert', async () => {
    const kept = await queued({ dest: `${consumer.url}/422` });
    await due(kept.id, 1);
    const after = await letter(kept.id);
    assert.equal(after.status, 'parked');
    assert.equal(after.nextRetryAt, null);
    assert.match(after.statusReason ?? '', /cannot heal.*HTTP 422/);
    assert.equal(after.attempts, kept.attempts + 1);
    assert.deepEqual((await historyOf(kept.id)).at(-1), ['auto-retry', 'failed', 'dead-letter-retry-consumer', 422]);
    assert.deepEqual(await published('dead-letter-events'), []);
  });

  it('a failure that can heal waits for the next retry, backing off as the source\'s policy says', async () => {
    // booking-consumer-source (knative/base/dead-letter/policy.yaml): 10 s doubling per retry made, 8 retries.
    const kept = await queued({ dest: `${consumer.url}/503`, kafkaSource: 'booking-consumer-source', retries: 2 });
    const res = await due(kept.id, 3);
    assert.equal(res.body.result.status, 'open');
    const after = await letter(kept.id);
    assert.equal(after.status, 'open');
    assert.equal(after.retries, 3);
    assert.equal(after.attempts, kept.attempts + 1);
    assert.match(after.statusReason ?? '', /automatic retry 3 of 8 failed \(HTTP 503\)/);
    const wait = after.nextRetryAt!.getTime() - after.statusAt.getTime();
    assert.ok(wait > 79_000 && wait < 81_000, `the 4th retry 10 s × 2³ = 80 s later, not ${wait} ms`);
    // Without a policy of its own, a source gets the default: the 1st retry 30 s after the failure, doubling.
    const other = await queued({ dest: `${consumer.url}/503`, kafkaSource: 'lab-results-source' });
    await due(other.id, 1);
    const first = await letter(other.id);
    const firstWait = first.nextRetryAt!.getTime() - first.statusAt.getTime();
    assert.ok(firstWait > 59_000 && firstWait < 61_000, `the 2nd retry 60 s later, not ${firstWait} ms`);
  });

  it('the last retry failing parks the letter and alerts operators once per group, on dead-letter-events and as a notification', async () => {
    // The default policy allows 5 retries: the 5th failing spends them.
    const group = '0badc0de0badc0de';
    const kept = await queued({ dest: `${consumer.url}/503`, kafkaSource: null, retries: 4, fingerprint: group });
    await due(kept.id, 5);
    const after = await letter(kept.id);
    assert.equal(after.status, 'parked');
    assert.equal(after.statusReason, 'retries exhausted (5 of 5)');
    assert.equal(after.nextRetryAt, null);

    const [alert] = await published('dead-letter-events');
    assert.equal(alert.type, 'com.medlab.dead-letter.alert-raised');
    assert.equal(alert.data.kind, 'retries-exhausted');
    assert.equal(alert.data.fingerprint, group);
    assert.equal(alert.data.letterId, kept.id);
    assert.equal(alert.data.count, 1);
    assert.equal(alert.data.runbook, 'README#runbook-retries-exhausted');
    const [notice] = await published('notification-requests');
    assert.equal(notice.type, 'com.medlab.notification.requested');
    assert.equal(notice.data.template, 'dead-letter-alert');
    assert.deepEqual(notice.data.recipient, { kind: 'operators', team: 'platform' });
    assert.equal(notice.data.variables.console, `/dead-letters?group=${group}`);
    assert.equal(notice.data.variables.group, group);
    assert.doesNotMatch(JSON.stringify([alert.data, notice.data]), /p-1|slot|retry shortly/, 'no event data or reason in the alert');

    // Another letter of the group exhausted within repeatMinutes is parked without a second alert.
    const second = await queued({ dest: `${consumer.url}/503`, kafkaSource: null, retries: 4, fingerprint: group });
    await due(second.id, 5);
    assert.equal((await letter(second.id)).status, 'parked');
    assert.equal((await published('dead-letter-events')).length, 1);
    assert.equal((await published('notification-requests')).length, 1);
  });

  it('a duplicate or stale retry-due does nothing: a retry that fails the same way counts one attempt and never loops', async () => {
    const kept = await queued({ dest: `${consumer.url}/503` });
    const eventId = randomUUID();
    await due(kept.id, 1, eventId);
    const again = await due(kept.id, 1, eventId);
    assert.equal(again.body.status, 'duplicate');
    const resent = await due(kept.id, 1);
    assert.equal(resent.body.result.outcome, 'stale', 'the same retry under another event id');
    const early = await due(kept.id, 3);
    assert.equal(early.body.result.outcome, 'stale', 'a retry number the letter has not reached');
    assert.equal(consumer.received.length, 1);
    assert.equal((await historyOf(kept.id)).filter(([kind]) => kind === 'auto-retry').length, 1);
    assert.equal((await letter(kept.id)).attempts, kept.attempts + 1);

    for (const status of ['resolved', 'parked', 'discarded'] as const) {
      const settled = await queued({ dest: `${consumer.url}/200`, status });
      assert.equal((await due(settled.id, 1)).body.result.outcome, 'stale', status);
    }
    assert.equal((await due(randomUUID(), 1)).body.result.outcome, 'stale', 'an unknown letter');
    assert.equal(consumer.received.length, 1);
  });

  it('a letter kept cut short is parked, never sent', async () => {
    const kept = await queued({ dest: `${consumer.url}/200`, truncated: true });
    const res = await due(kept.id, 1);
    assert.equal(res.body.result.outcome, 'parked');
    const after = await letter(kept.id);
    assert.equal(after.status, 'parked');
    assert.match(after.statusReason ?? '', /^cannot retry: .*cut short/);
    assert.equal(consumer.received.length, 0);
  });

  it('refuses a retry-due that breaks its contract with 400 (dead-lettered, never retried)', async () => {
    const res = await deliver(retries.url, { type: 'com.medlab.dead-letter.retry-due', data: { letterId: 'nope', retry: 0 } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['data/letterId', 'data/retry']);
  });
});
