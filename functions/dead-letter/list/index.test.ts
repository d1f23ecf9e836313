import { strict as assert } from 'node:assert';
import * as fn from './index';
import { startFunction, call, resetDatabase, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { insertLetter, insertLetters, minutesAgo, operatorToken } from '../../../test/support/dead-letters';

const operator = operatorToken();
const ids = (res: { body: { letters: { id: string }[] } }) => res.body.letters.map((l) => l.id);

describe('dead-letter-list (GET /api/dead-letters)', () => {
  let list: RunningFunction;
  before(async () => { list = await startFunction(fn); });
  after(async () => list.close());
  beforeEach(resetDatabase);

  const get = (query: Record<string, string> = {}, token = operator) => call(list.url, { query, token });

  it('lists letters newest first with what an operator needs to act, and no event data', async () => {
    const [newer, older] = await insertLetters(2, { code: 422 });
    const res = await get();
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res), [newer.id, older.id]);
    const [view] = res.body.letters;
    assert.deepEqual(
      [view.system, view.status, view.eventType, view.topic, view.kafkaSource, view.consumer, view.code, view.group, view.partition, view.offset, view.key, view.attempts],
      ['booking-queue', 'open', 'com.medlab.booking.requested', 'booking-requests', 'booking-consumer-source', 'booking-consumer', 422, 'a1b2c3d4e5f60708', 2, 1234, 'p-1', 1],
    );
    assert.equal(view.receivedAt, newer.receivedAt.toISOString());
    assert.equal('event' in view, false);
    assert.equal(res.body.nextCursor, null);
  });

  it('masks the values a reason quotes unless the operator holds the phi grant', async () => {
    await insertLetter({ reason: 'no such patient "Nguyen Van A"' });
    assert.equal((await get()).body.letters[0].reason, 'no such patient "•••"');
    assert.equal((await get({}, operatorToken(['operator', 'phi']))).body.letters[0].reason, 'no such patient "Nguyen Van A"');
  });

  it('each filter narrows the list to the letters it names', async () => {
    const plain = await insertLetter({ receivedAt: minutesAgo(5) });
    const results = await insertLetter({ system: 'patient-booking', kafkaSource: 'lab-results-source', consumer: 'lab-results', eventType: 'com.medlab.result.released', receivedAt: minutesAgo(4) });
    const parked = await insertLetter({ status: 'parked', group: 'ffff000011112222', receivedAt: minutesAgo(3) });
    const timedOut = await insertLetter({ code: 503, receivedAt: minutesAgo(2) });
    const old = await insertLetter({ receivedAt: minutesAgo(3 * 24 * 60) });
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ system: 'patient-booking' }, [results.id]],
      [{ source: 'lab-results-source' }, [results.id]],
      [{ consumer: 'lab-results' }, [results.id]],
      [{ type: 'com.medlab.result.released' }, [results.id]],
      [{ group: 'ffff000011112222' }, [parked.id]],
      [{ status: 'parked' }, [parked.id]],
      [{ status: 'open', system: 'booking-queue' }, [timedOut.id, plain.id, old.id]],
      [{ code: '503' }, [timedOut.id]],
      [{ olderThanMinutes: '60' }, [old.id]],
      [{ newerThanMinutes: '60', code: '422' }, [parked.id, results.id, plain.id]],
      [{ system: 'appointment' }, []],
    ];
    for (const [query, expected] of cases) {
      const res = await get(query);
      assert.equal(res.status, 200, JSON.stringify(query));
      assert.deepEqual(ids(res), expected, JSON.stringify(query));
    }
  });

  it('pages follow the cursor with no letter missed or repeated, even with letters arriving and ties in time', async () => {
    const at = minutesAgo(10);
    // Four letters received in the same millisecond, between others: the id decides their order.
    const tied = await Promise.all([1, 2, 3, 4].map(() => insertLetter({ receivedAt: at })));
    const before = await insertLetters(3, {}, minutesAgo(20));
    const after = await insertLetters(3, {}, minutesAgo(1));
    const expected = [...after.map((l) => l.id), ...tied.map((l) => l.id).sort().reverse(), ...before.map((l) => l.id)];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get({ limit: '3', ...(cursor ? { cursor } : {}) });
      assert.equal(res.status, 200);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      // A letter arriving while the operator pages is newer than every page: it shifts nothing.
      if (pages++ === 0) await insertLetter();
    } while (cursor);
    assert.deepEqual(seen, expected);
    assert.equal(pages, 4);
  });

  it('paging keeps the filter: the next page of parked letters holds parked letters only', async () => {
    const parked = await insertLetters(3, { status: 'parked' });
    await insertLetters(3, { status: 'open' }, minutesAgo(1.5));
    const first = await get({ status: 'parked', limit: '2' });
    const second = await get({ status: 'parked', limit: '2', cursor: first.body.nextCursor });
    assert.deepEqual([...ids(first), ...ids(second)], parked.map((l) => l.id));
    assert.equal(second.body.nextCursor, null);
  });

  it('lists 50 letters unless asked for up to 200', async () => {
    await insertLetters(52);
    assert.equal((await get()).body.letters.length, 50);
    assert.equal((await get({ limit: '200' })).body.letters.length, 52);
  });

  it('answers bad input with 400 naming the field, a forged cursor included', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: '0' }, 'query/limit'],
      [{ limit: '201' }, 'query/limit'],
      [{ status: 'lost' }, 'query/status'],
      [{ group: 'not hex' }, 'query/group'],
      [{ code: '99' }, 'query/code'],
      [{ olderThanMinutes: '-1' }, 'query/olderThanMinutes'],
      [{ cursor: 'bm90IGEgY3Vyc29y' }, 'query/cursor'],
      [{ patientId: 'p-1' }, 'query/patientId'],
    ];
    for (const [query, field] of cases) {
      const res = await get(query);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('is for operators only: 403 for staff without the operator grant and for patients, 401 without a token', async () => {
    await insertLetter();
    assert.equal((await get({}, staffToken())).status, 403);
    assert.equal((await get({}, operatorToken(['phi']))).status, 403);
    assert.equal((await get({}, patientToken('p-1'))).status, 403);
    assert.equal((await call(list.url)).status, 401);
  });
});
