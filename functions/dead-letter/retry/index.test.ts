import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { operatorToken } from '../../../test/support/dead-letters';
import { startFunction, call, freePort, resetDatabase, staffToken, patientToken, type RunningFunction } from '../../../test/support/fixtures';
import { standInConsumer, keepLetter, historyOf, type StandInConsumer } from '../../../test/support/dead-letters';

describe('dead-letter-retry (POST /api/dead-letters/retry)', () => {
  let retry: RunningFunction;
  let consumer: StandInConsumer;
  before(async () => { retry = await startFunction(fn); consumer = await standInConsumer(); });
  after(async () => { await retry.close(); await consumer.close(); });
  beforeEach(async () => { await resetDatabase(); consumer.received.length = 0; });

  const post = (body: unknown, token = operatorToken()) => call(retry.url, { body, token });
  const letter = (id: string) => db().deadLetter.findUniqueOrThrow({ where: { id } });

  it('a retry the consumer accepts resolves the letter, saying who did it; the event goes as its KafkaSource sent it', async () => {
    const kept = await keepLetter({ dest: `${consumer.url}/200` });
    const res = await post({ letterIds: [kept.id] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { delivered: 1, failed: 0, skipped: 0, results: [{ letterId: kept.id, outcome: 'delivered', code: 200, reason: 'delivered (HTTP 200)' }] });
    const after = await letter(kept.id);
    assert.equal(after.status, 'resolved');
    assert.equal(after.resolution, 'retry');
    assert.equal(after.statusBy, 'staff:ops-1');
    assert.equal(after.nextRetryAt, null);
    assert.deepEqual((await historyOf(kept.id)).at(-1), ['retry', 'delivered', 'staff:ops-1', 200]);

    const [sent] = consumer.received;
    const event = kept.event as Record<string, unknown>;
    assert.equal(sent.headers['ce-id'], event.id);
    assert.equal(sent.headers['ce-source'], '/portal');
    assert.equal(sent.headers['ce-type'], 'com.medlab.booking.requested');
    assert.equal(sent.headers['ce-specversion'], '1.0');
    assert.equal(sent.headers['ce-partitionkey'], 'p-1');
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(sent.headers).filter((h) => h.startsWith('ce-knativeerror')), [], 'what the dead-letter sink added stays behind');
    assert.deepEqual(JSON.parse(sent.body), event.data);
  });

  it('a retry that fails counts an attempt with the consumer\'s reason and leaves the letter as it was', async () => {
    const open = await keepLetter({ dest: `${consumer.url}/503` });
    const parked = await keepLetter({ dest: `${consumer.url}/503`, status: 'parked' });
    const res = await post({ letterIds: [open.id, parked.id] });
    assert.equal(res.status, 200);
    assert.equal(res.body.failed, 2);
    assert.deepEqual(res.body.results[0], { letterId: open.id, outcome: 'failed', code: 503, reason: 'Service Unavailable: the database is unavailable; retry shortly' });
    for (const before of [open, parked]) {
      const after = await letter(before.id);
      assert.equal(after.status, before.status);
      assert.deepEqual(after.nextRetryAt, before.nextRetryAt, 'its automatic retry is still planned as it was');
      assert.equal(after.attempts, before.attempts + 1);
      assert.deepEqual((await historyOf(before.id)).at(-1), ['retry', 'failed', 'staff:ops-1', 503]);
    }
  });

  it('an open letter the consumer refuses for good (4xx) is parked; no automatic retry waits for it any more', async () => {
    const kept = await keepLetter({ dest: `${consumer.url}/422` });
    const res = await post({ letterIds: [kept.id] });
    assert.equal(res.body.results[0].reason, 'Unprocessable Event: no such slot "s-9"');
    const after = await letter(kept.id);
    assert.equal(after.status, 'parked');
    assert.equal(after.nextRetryAt, null);
    assert.match(after.statusReason ?? '', /cannot heal.*422/);
    assert.equal(after.statusBy, 'staff:ops-1');
  });

  it('a group retries its newest open and parked letters, at most 100 per call; others of the group are left alone', async () => {
    const group = 'a1b2c3d4e5f60718';
    const base = Date.now() - 3600_000;
    const kept = [];
    for (let i = 0; i < 102; i++) kept.push(await keepLetter({ dest: `${consumer.url}/200`, fingerprint: group, key: `p-${i % 7}`, receivedAt: new Date(base + i * 1000), status: i % 2 ? 'parked' : 'open' }));
    const resolved = await keepLetter({ dest: `${consumer.url}/200`, fingerprint: group, status: 'resolved', receivedAt: new Date() });
    const res = await post({ group });
    assert.equal(res.status, 200);
    assert.equal(res.body.delivered, 100);
    assert.deepEqual(res.body.results.map((r: { letterId: string }) => r.letterId), kept.slice(2).reverse().map((l) => l.id), 'newest first');
    assert.deepEqual((await db().deadLetter.findMany({ where: { fingerprint: group, status: { not: 'resolved' } }, orderBy: { receivedAt: 'asc' } })).map((l) => l.id), [kept[0].id, kept[1].id]);
    assert.equal((await historyOf(resolved.id)).length, 1, 'the resolved letter was not sent again');
    // One key's letters reach the consumer in the order they had on their partition.
    const sentIds = consumer.received.map((r) => r.headers['ce-id']);
    const key3 = kept.slice(2).filter((_, i) => (i + 2) % 7 === 3).map((l) => (l.event as { id: string }).id);
    assert.deepEqual(sentIds.filter((id) => key3.includes(id as string)), key3);
  });

  it('skips, with the reason, letters that are not open or parked, unknown ones, cut-short ones and ones with nowhere to go; nothing is sent', async () => {
    const resolved = await keepLetter({ dest: `${consumer.url}/200`, status: 'resolved' });
    const retrying = await keepLetter({ dest: `${consumer.url}/200`, status: 'retrying' });
    const truncated = await keepLetter({ dest: `${consumer.url}/200`, truncated: true });
    const nowhere = await keepLetter({ dest: '' });
    const unknown = randomUUID();
    const res = await post({ letterIds: [resolved.id, retrying.id, truncated.id, nowhere.id, unknown] });
    assert.equal(res.status, 200);
    assert.equal(res.body.skipped, 5);
    const reasons = res.body.results.map((r: { reason: string }) => r.reason);
    assert.match(reasons[0], /it is resolved/);
    assert.match(reasons[1], /it is retrying/);
    assert.match(reasons[2], /cut short/);
    assert.match(reasons[3], /no knativeerrordest/);
    assert.equal(reasons[4], 'no such letter');
    assert.equal(consumer.received.length, 0);
    assert.equal((await letter(truncated.id)).status, 'open');
    assert.equal((await historyOf(truncated.id)).length, 1, 'nothing was attempted');
  });

  it('a consumer that does not answer fails the retry with no code (it can heal), within the timeout', async () => {
    const previous = process.env.DEAD_LETTER_RETRY_TIMEOUT_MS;
    process.env.DEAD_LETTER_RETRY_TIMEOUT_MS = '300';
    try {
      const hangs = await keepLetter({ dest: `${consumer.url}/hang` });
      const refused = await keepLetter({ dest: `http://127.0.0.1:${await freePort()}/` });
      const res = await post({ letterIds: [hangs.id, refused.id] });
      assert.deepEqual(res.body.results.map((r: { code: unknown }) => r.code), [null, null]);
      assert.equal(res.body.results[0].reason, 'no answer within 300 ms');
      assert.match(res.body.results[1].reason, /^no answer: .*ECONNREFUSED/);
      assert.equal((await letter(hangs.id)).status, 'open', 'no answer can heal: the letter keeps waiting for its automatic retry');
    } finally {
      if (previous === undefined) delete process.env.DEAD_LETTER_RETRY_TIMEOUT_MS;
      else process.env.DEAD_LETTER_RETRY_TIMEOUT_MS = previous;
    }
  });

  it('asks for letterIds or a group (one of them), at most 100 ids, from an operator', async () => {
    for (const body of [{}, { letterIds: [randomUUID()], group: 'g' }]) {
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.equal(res.body['invalid-params'][0].name, 'body/letterIds');
    }
    const tooMany = await post({ letterIds: Array.from({ length: 101 }, () => randomUUID()) });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body['invalid-params'][0].name, 'body/letterIds');
    const notUuid = await post({ letterIds: ['nope'] });
    assert.equal(notUuid.status, 400);
    assert.equal((await post({ group: 'g' }, staffToken())).status, 403, 'staff without the operator grant');
    assert.equal((await post({ group: 'g' }, patientToken())).status, 403);
    assert.equal((await call(retry.url, { body: { group: 'g' } })).status, 401);
  });
});
