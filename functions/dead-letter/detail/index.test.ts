import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { insertLetter, operatorToken } from '../../../test/support/dead-letters';

const operator = operatorToken();
const phiOperator = operatorToken(['operator', 'phi'], 'ops-2');
const views = (letterId: string) => db().deadLetterView.findMany({ where: { letterId }, orderBy: { id: 'asc' } });

describe('dead-letter-detail (GET /api/dead-letters/letter)', () => {
  let detail: RunningFunction;
  before(async () => { detail = await startFunction(fn); });
  after(async () => detail.close());
  beforeEach(resetDatabase);

  const get = (query: Record<string, string>, token = operator) => call(detail.url, { query, token });

  it('shows the letter and its event with the data masked: ids kept, everything else hidden, nothing recorded', async () => {
    const letter = await insertLetter();
    const res = await get({ id: letter.id });
    assert.equal(res.status, 200);
    assert.equal(res.body.masked, true);
    assert.equal(res.body.letter.id, letter.id);
    assert.equal(res.body.letter.reason, 'Unprocessable Event: no such slot "•••"');
    const event = res.body.event;
    assert.deepEqual([event.id, event.type, event.source, event.datamasked], [letter.eventId, 'com.medlab.booking.requested', '/portal', true]);
    const data = (letter.event as { data: Record<string, string> }).data;
    assert.deepEqual(event.data, { requestId: data.requestId, patientId: 'p-1', slotId: data.slotId, note: '•••' });
    assert.doesNotMatch(JSON.stringify(res.body), /Nguyen|0901234567/);
    // The consumer's answer travels in the event too (knativeerrordata): hidden there as well.
    assert.equal(event.knativeerrordata, '•••');
    assert.doesNotMatch(JSON.stringify(res.body), new RegExp(letter.errorData!.slice(0, 20)));
    assert.doesNotMatch(JSON.stringify(res.body), /s-1/);
    assert.deepEqual(res.body.errorData, { title: 'Unprocessable Event', detail: 'no such slot "•••"' });
    assert.equal((await views(letter.id)).length, 0);
  });

  it('unmasked for an operator holding phi: the event and the answer as they came, and each view recorded', async () => {
    const letter = await insertLetter();
    const res = await get({ id: letter.id, unmasked: 'true' }, phiOperator);
    assert.equal(res.status, 200);
    assert.equal(res.body.masked, false);
    assert.deepEqual(res.body.event, letter.event);
    assert.deepEqual(res.body.errorData, { title: 'Unprocessable Event', detail: 'no such slot "s-1"' });
    await get({ id: letter.id, unmasked: 'true' }, phiOperator);
    const seen = await views(letter.id);
    assert.deepEqual(seen.map((v) => v.viewer), ['staff:ops-2', 'staff:ops-2']);
    assert.ok(Date.now() - seen[0].at.getTime() < 60_000);
  });

  it('an operator holding phi who does not ask for unmasked data sees it masked, and no view is recorded', async () => {
    const letter = await insertLetter({ reason: 'no such patient "Nguyen Van A"' });
    const res = await get({ id: letter.id }, phiOperator);
    assert.equal(res.body.masked, true);
    assert.equal(res.body.event.data.note, '•••');
    // The reason is not event data: phi holders read it whole in lists, and here alike.
    assert.equal(res.body.letter.reason, 'no such patient "Nguyen Van A"');
    assert.equal((await views(letter.id)).length, 0);
  });

  it('unmasked without the phi grant is refused with 403 naming unmasked, and nothing is shown or recorded', async () => {
    const letter = await insertLetter();
    const res = await get({ id: letter.id, unmasked: 'true' });
    assert.equal(res.status, 403);
    assert.equal(res.body['invalid-params'][0].name, 'query/unmasked');
    assert.doesNotMatch(JSON.stringify(res.body), /Nguyen/);
    assert.equal((await views(letter.id)).length, 0);
  });

  it('lists the attempts oldest first: each failed delivery, retry and redrive with who made it', async () => {
    const letter = await insertLetter();
    const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 8, 0, s));
    await db().deadLetterAttempt.createMany({
      data: [
        { letterId: letter.id, at: at(30), kind: 'retry', outcome: 'failed', by: 'staff:ops-1', code: 503, reason: 'busy "now"' },
        { letterId: letter.id, at: at(0), kind: 'delivery', outcome: 'failed', by: 'booking-consumer-source', code: 422, reason: 'no such slot "s-1"' },
        { letterId: letter.id, at: at(60), kind: 'redrive', outcome: 'sent', by: 'staff:ops-1' },
      ],
    });
    const res = await get({ id: letter.id });
    assert.deepEqual(res.body.attempts, [
      { at: at(0).toISOString(), kind: 'delivery', outcome: 'failed', by: 'booking-consumer-source', code: 422, reason: 'no such slot "•••"' },
      { at: at(30).toISOString(), kind: 'retry', outcome: 'failed', by: 'staff:ops-1', code: 503, reason: 'busy "•••"' },
      { at: at(60).toISOString(), kind: 'redrive', outcome: 'sent', by: 'staff:ops-1', code: null, reason: null },
    ]);
  });

  it('an answer that is not JSON is text, masked like a reason; no answer at all is null', async () => {
    const text = await insertLetter({ errorData: 'upstream said "Nguyen Van A" is unknown' });
    assert.equal((await get({ id: text.id })).body.errorData, 'upstream said "•••" is unknown');
    assert.equal((await get({ id: text.id, unmasked: 'true' }, phiOperator)).body.errorData, 'upstream said "Nguyen Van A" is unknown');
    const silent = await insertLetter({ errorData: null, code: null });
    assert.equal((await get({ id: silent.id })).body.errorData, null);
  });

  it('an unknown letter is a 404 naming id; a malformed id a 400', async () => {
    const missing = await get({ id: randomUUID() });
    assert.equal(missing.status, 404);
    assert.equal(missing.body['invalid-params'][0].name, 'query/id');
    const bad = await get({ id: 'letter-1' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body['invalid-params'][0].name, 'query/id');
    assert.equal((await get({})).body['invalid-params'][0].name, 'query/id');
  });

  it('is for operators only: 403 for staff without the operator grant and for patients', async () => {
    const letter = await insertLetter();
    assert.equal((await get({ id: letter.id }, staffToken())).status, 403);
    assert.equal((await get({ id: letter.id, unmasked: 'true' }, operatorToken(['phi']))).status, 403);
    assert.equal((await get({ id: letter.id }, patientToken('p-1'))).status, 403);
    assert.equal((await views(letter.id)).length, 0);
  });
});
