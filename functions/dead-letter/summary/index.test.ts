import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, resetDatabase, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { insertLetter, minutesAgo, operatorToken } from '../../../test/support/dead-letters';

const operator = operatorToken();
const bucketOf = (at: Date, minutes: number) => new Date(Math.floor(at.getTime() / (minutes * 60_000)) * minutes * 60_000).toISOString();

describe('dead-letter-summary (GET /api/dead-letters/summary)', () => {
  let summary: RunningFunction;
  before(async () => { summary = await startFunction(fn); });
  after(async () => summary.close());
  beforeEach(resetDatabase);

  const get = (query: Record<string, string> = {}, token = operator) => call(summary.url, { query, token });

  it('counts letters by status and by system', async () => {
    await insertLetter({ status: 'open' });
    await insertLetter({ status: 'open' });
    await insertLetter({ status: 'parked', system: 'patient-booking' });
    await insertLetter({ status: 'resolved', system: 'patient-booking' });
    await insertLetter({ status: 'retrying', system: 'notification' });
    const res = await get();
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.byStatus, { open: 2, retrying: 1, parked: 1, resolved: 1, discarded: 0 });
    assert.deepEqual(res.body.bySystem, [
      { system: 'booking-queue', open: 2, retrying: 0, parked: 0, resolved: 0, discarded: 0 },
      { system: 'notification', open: 0, retrying: 1, parked: 0, resolved: 0, discarded: 0 },
      { system: 'patient-booking', open: 0, retrying: 0, parked: 1, resolved: 1, discarded: 0 },
    ]);
  });

  it('groups alike failures: the one with most letters waiting first, with its counts, first and last letter and latest reason', async () => {
    const slots = 'aaaa000000000001';
    const results = 'bbbb000000000002';
    const first = await insertLetter({ group: slots, receivedAt: minutesAgo(90) });
    await insertLetter({ group: slots, status: 'parked', receivedAt: minutesAgo(60) });
    await insertLetter({ group: slots, status: 'resolved', receivedAt: minutesAgo(45) });
    const latest = await insertLetter({ group: slots, reason: 'no such slot "s-9"', receivedAt: minutesAgo(30) });
    const labResult = { group: results, consumer: 'lab-results', eventType: 'com.medlab.result.released', system: 'patient-booking', code: 503, reason: 'busy' };
    const waiting = await insertLetter({ ...labResult, receivedAt: minutesAgo(5) });
    const discarded = await insertLetter({ ...labResult, status: 'discarded', receivedAt: minutesAgo(4) });
    const { body } = await get();
    assert.deepEqual(body.groups, [
      {
        group: slots, system: 'booking-queue', eventType: 'com.medlab.booking.requested', consumer: 'booking-consumer', code: 422,
        reason: 'no such slot "•••"', count: 4, open: 2, unresolved: 3,
        firstReceivedAt: first.receivedAt.toISOString(), lastReceivedAt: latest.receivedAt.toISOString(),
      },
      {
        group: results, system: 'patient-booking', eventType: 'com.medlab.result.released', consumer: 'lab-results', code: 503,
        reason: 'busy', count: 2, open: 1, unresolved: 1,
        firstReceivedAt: waiting.receivedAt.toISOString(), lastReceivedAt: discarded.receivedAt.toISOString(),
      },
    ]);
    const phi = await get({}, operatorToken(['operator', 'phi']));
    assert.equal(phi.body.groups[0].reason, 'no such slot "s-9"');
  });

  it('says when the oldest letter still waiting (open, retrying or parked) arrived and how many minutes ago', async () => {
    await insertLetter({ status: 'resolved', receivedAt: minutesAgo(600) });
    await insertLetter({ status: 'discarded', receivedAt: minutesAgo(500) });
    const parked = await insertLetter({ status: 'parked', receivedAt: minutesAgo(125) });
    await insertLetter({ status: 'retrying', receivedAt: minutesAgo(30) });
    await insertLetter({ status: 'open', receivedAt: minutesAgo(10) });
    const { body } = await get();
    assert.equal(body.oldestUnresolvedAt, parked.receivedAt.toISOString());
    assert.ok([124, 125].includes(body.oldestUnresolvedMinutes), String(body.oldestUnresolvedMinutes));
  });

  it('with nothing kept: zero counts, no groups, no oldest letter, and a timeline of empty buckets', async () => {
    const { body } = await get();
    assert.deepEqual(body.byStatus, { open: 0, retrying: 0, parked: 0, resolved: 0, discarded: 0 });
    assert.deepEqual([body.bySystem, body.groups, body.oldestUnresolvedAt, body.oldestUnresolvedMinutes], [[], [], null, null]);
    assert.ok(body.timeline.buckets.length > 90);
    assert.ok(body.timeline.buckets.every((b: { counts: object }) => Object.keys(b.counts).length === 0));
  });

  it('the timeline counts letters received per 15-minute bucket by system over the last day, oldest bucket first', async () => {
    const early = minutesAgo(20 * 60);
    const recent = minutesAgo(7);
    await insertLetter({ receivedAt: early });
    await insertLetter({ receivedAt: early, system: 'patient-booking' });
    await insertLetter({ receivedAt: recent });
    await insertLetter({ receivedAt: recent });
    await insertLetter({ receivedAt: minutesAgo(3 * 24 * 60) });
    const { body } = await get();
    const { bucketMinutes, buckets } = body.timeline;
    assert.equal(bucketMinutes, 15);
    assert.ok(buckets.length >= 96 && buckets.length <= 97, `${buckets.length} buckets`);
    assert.deepEqual(buckets.map((b: { at: string }) => b.at), [...buckets.map((b: { at: string }) => b.at)].sort());
    assert.equal(new Date(buckets[1].at).getTime() - new Date(buckets[0].at).getTime(), 15 * 60_000);
    const counted = buckets.filter((b: { counts: object }) => Object.keys(b.counts).length);
    assert.deepEqual(counted, [
      { at: bucketOf(early, 15), counts: { 'booking-queue': 1, 'patient-booking': 1 } },
      { at: bucketOf(recent, 15), counts: { 'booking-queue': 2 } },
    ]);
  });

  it('a longer span takes longer buckets, at most 97 of them; the three-day-old letter is in a week', async () => {
    await insertLetter({ receivedAt: minutesAgo(3 * 24 * 60) });
    const week = (await get({ hours: '168' })).body.timeline;
    assert.equal(week.bucketMinutes, 120);
    assert.ok(week.buckets.length <= 97);
    assert.equal(week.buckets.reduce((n: number, b: { counts: Record<string, number> }) => n + (b.counts['booking-queue'] ?? 0), 0), 1);
    assert.equal((await get({ hours: '720' })).body.timeline.bucketMinutes, 480);
    assert.equal((await get({ hours: '48' })).body.timeline.bucketMinutes, 60);
  });

  it('answers bad input with 400 naming hours, and is for operators only', async () => {
    for (const hours of ['0', '721', 'day']) {
      const res = await get({ hours });
      assert.equal(res.status, 400);
      assert.equal(res.body['invalid-params'][0].name, 'query/hours');
    }
    assert.equal((await get({}, staffToken())).status, 403);
    assert.equal((await get({}, patientToken('p-1'))).status, 403);
  });
});
