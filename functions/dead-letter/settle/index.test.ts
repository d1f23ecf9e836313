import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { insertLetter, minutesAgo, operatorToken } from '../../../test/support/dead-letters';

const operator = operatorToken();
const letter = (id: string) => db().deadLetter.findUniqueOrThrow({ where: { id } });

describe('dead-letter-settle (POST /api/dead-letters/settle)', () => {
  let settle: RunningFunction;
  before(async () => { settle = await startFunction(fn); });
  after(async () => settle.close());
  beforeEach(resetDatabase);

  const post = (body: unknown, token = operator) => call(settle.url, { body, token });

  it('parks letters by id with the reason, who and when, and no automatic retry left', async () => {
    const a = await insertLetter({ receivedAt: minutesAgo(2) });
    const b = await db().deadLetter.update({ where: { id: (await insertLetter({ receivedAt: minutesAgo(1) })).id }, data: { nextRetryAt: new Date(Date.now() + 60_000) } });
    const res = await post({ action: 'park', reason: 'slot s-1 was deleted; the booking cannot be made', letterIds: [a.id, b.id] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { action: 'park', changed: 2, letterIds: [b.id, a.id] });
    for (const id of [a.id, b.id]) {
      const parked = await letter(id);
      assert.deepEqual([parked.status, parked.statusReason, parked.statusBy, parked.nextRetryAt], ['parked', 'slot s-1 was deleted; the booking cannot be made', 'staff:ops-1', null]);
      assert.ok(Date.now() - parked.statusAt.getTime() < 60_000);
    }
  });

  it('leaves resolved letters, and letters already where the action would put them, as they were', async () => {
    const open = await insertLetter();
    const resolved = await insertLetter({ status: 'resolved' });
    const parked = await insertLetter({ status: 'parked' });
    const res = await post({ action: 'park', reason: 'not now', letterIds: [open.id, resolved.id, parked.id, randomUUID()] });
    assert.deepEqual([res.body.changed, res.body.letterIds], [1, [open.id]]);
    assert.equal((await letter(resolved.id)).status, 'resolved');
    assert.deepEqual([(await letter(parked.id)).statusReason, (await letter(parked.id)).statusBy], [null, 'intake']);
    const discard = await post({ action: 'discard', reason: 'test traffic', letterIds: [resolved.id] });
    assert.deepEqual([discard.status, discard.body.changed], [200, 0]);
  });

  it('discards a whole group: its waiting letters only, other groups untouched', async () => {
    const group = 'cccc000000000003';
    const waiting = [await insertLetter({ group }), await insertLetter({ group, status: 'parked' }), await insertLetter({ group, status: 'retrying' })];
    const resolved = await insertLetter({ group, status: 'resolved' });
    const other = await insertLetter({ group: 'dddd000000000004' });
    const res = await post({ action: 'discard', reason: 'load test events, sent to production by mistake', group });
    assert.equal(res.body.changed, 3);
    assert.deepEqual([...res.body.letterIds].sort(), waiting.map((l) => l.id).sort());
    for (const l of waiting) assert.equal((await letter(l.id)).status, 'discarded');
    assert.equal((await letter(resolved.id)).status, 'resolved');
    assert.equal((await letter(other.id)).status, 'open');
  });

  it('reopens parked and discarded letters: open again, waiting for an operator rather than an automatic retry', async () => {
    const parked = await insertLetter({ status: 'parked' });
    const discarded = await insertLetter({ status: 'discarded' });
    const resolved = await insertLetter({ status: 'resolved' });
    const res = await post({ action: 'reopen', letterIds: [parked.id, discarded.id, resolved.id] });
    assert.equal(res.body.changed, 2);
    for (const l of [parked, discarded]) {
      const reopened = await letter(l.id);
      assert.deepEqual([reopened.status, reopened.nextRetryAt, reopened.statusBy, reopened.statusReason], ['open', null, 'staff:ops-1', null]);
    }
    assert.equal((await letter(resolved.id)).status, 'resolved');
    const noted = await insertLetter({ status: 'parked' });
    await post({ action: 'reopen', reason: 'the consumer is fixed', letterIds: [noted.id] });
    assert.equal((await letter(noted.id)).statusReason, 'the consumer is fixed');
  });

  it('answers 400 naming the field: a reason to park or discard, letterIds or a group (not both), at most 500 ids', async () => {
    const l = await insertLetter();
    const cases: Array<[unknown, string]> = [
      [{ action: 'park', letterIds: [l.id] }, 'body/reason'],
      [{ action: 'discard', reason: '', letterIds: [l.id] }, 'body/reason'],
      [{ action: 'discard', reason: '   ', letterIds: [l.id] }, 'body/reason'],
      [{ action: 'park', reason: 'x'.repeat(501), letterIds: [l.id] }, 'body/reason'],
      [{ action: 'park', reason: 'why' }, 'body/letterIds'],
      [{ action: 'park', reason: 'why', letterIds: [l.id], group: 'abc' }, 'body/group'],
      [{ action: 'park', reason: 'why', letterIds: [] }, 'body/letterIds'],
      [{ action: 'park', reason: 'why', letterIds: Array.from({ length: 501 }, () => randomUUID()) }, 'body/letterIds'],
      [{ action: 'park', reason: 'why', letterIds: ['letter-1'] }, 'body/letterIds.0'],
      [{ action: 'retry', reason: 'why', letterIds: [l.id] }, 'body/action'],
      [{ reason: 'why', letterIds: [l.id] }, 'body/action'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), `${field}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    assert.equal((await letter(l.id)).status, 'open');
  });

  it('is for operators only: 403 for staff without the operator grant and for patients, and nothing changes', async () => {
    const l = await insertLetter();
    const body = { action: 'discard', reason: 'mine', letterIds: [l.id] };
    assert.equal((await post(body, staffToken())).status, 403);
    assert.equal((await post(body, operatorToken(['phi']))).status, 403);
    assert.equal((await post(body, patientToken('p-1'))).status, 403);
    assert.equal((await letter(l.id)).status, 'open');
  });
});
