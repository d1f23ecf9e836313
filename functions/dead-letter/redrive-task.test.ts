// The redrive runner on its own: the rate it keeps (asserted on the waits it asks its clock for, never on
// elapsed time), letters whose turn comes after they stopped waiting, a send that fails (wholly or half-way),
// and a runner that cannot tell what the runner before it sent.
import { strict as assert } from 'node:assert';
import * as intakeFn from './intake/index';
import { db } from '../shared/db';
import type { Bus, BusRecord } from '../shared/bus';
import { memoryBus } from '../../scripts/lib/laptop/memory-bus';
import { startFunction, resetDatabase, type RunningFunction } from '../../test/support/fixtures';
import { deadLetter, ends, fakeClock, produce } from '../../test/support/redrive';
import { createTask, findTask, runTask, runnerId, type Selection } from './redrive-task';

/** The in-process bus, counting what each send carried and when (by the runner's clock). */
function countingBus(now: () => number, before?: (records: BusRecord[]) => Promise<void> | void): Bus & { sends: Array<{ at: number; n: number }> } {
  const sends: Array<{ at: number; n: number }> = [];
  return {
    kind: 'memory',
    sends,
    send: async (records) => {
      await before?.(records);
      sends.push({ at: now(), n: records.length });
      memoryBus.append(records);
    },
    ends: (topics) => memoryBus.ends(topics),
    marked: (...args) => memoryBus.marked(...args),
    close: async () => undefined,
  };
}

/** Every record on booking-requests after `since` with a redrive's mark: the letters' event ids, in log order. */
const redrivenIds = (since: Map<number, number>) => memoryBus.log('booking-requests').flatMap((rs, p) => rs.filter((r) => r.offset >= (since.get(p) ?? 0) && r.headers['medlab-redrive-item']).map((r) => r.headers.ce_id));

describe('redrive runner', () => {
  let intake: RunningFunction;
  before(async () => { intake = await startFunction(intakeFn); });
  after(async () => intake.close());
  beforeEach(resetDatabase);

  async function letters(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (const o of produce(Array.from({ length: n }, (_, i) => ({ key: `p-${i % 3}`, partition: i % 2 })))) ids.push(await deadLetter(intake.url, o));
    return ids;
  }
  const task = async (selection: Selection, rate: number, owner = runnerId()) => ({ owner, id: (await db().$transaction((tx) => createTask(tx, selection, rate, 'staff:ops-1', owner)))!.id });

  it('keeps to its rate: 12 letters at 5 a second go out no more than 5 in any second of its clock, the last after 2 s', async () => {
    const ids = await letters(12);
    const { id, owner } = await task({ letterIds: ids }, 5);
    const clock = fakeClock();
    const target = countingBus(clock.now);
    const result = await runTask(id, { owner, clock, target });
    assert.deepEqual([result.end, result.sent], ['completed', 12]);
    assert.equal(target.sends.reduce((n, s) => n + s.n, 0), 12);
    for (const s of target.sends) {
      const inSecond = target.sends.filter((o) => o.at >= s.at && o.at < s.at + 1000).reduce((n, o) => n + o.n, 0);
      assert.ok(inSecond <= 5, `${inSecond} records in the second from ${s.at} ms`);
    }
    assert.ok(target.sends.at(-1)!.at >= 2000, `the last record went out at ${target.sends.at(-1)!.at} ms of the runner's clock`);
    assert.ok(clock.slept.reduce((a, b) => a + b, 0) >= 2000, 'it waited at least 2 s in all');
    assert.equal((await findTask(id))!.status, 'completed');
  });

  it('at its highest rate (500 a second) it sends in batches of 100, five a second', async () => {
    const ids = await letters(250);
    const { id, owner } = await task({ letterIds: ids }, 500);
    const clock = fakeClock();
    const target = countingBus(clock.now);
    await runTask(id, { owner, clock, target });
    assert.deepEqual(target.sends.map((s) => [s.at, s.n]), [[0, 100], [200, 100], [400, 50]]);
  });

  it('skips a letter that stopped waiting before its turn (resolved by a retry meanwhile), saying so', async () => {
    const ids = await letters(3);
    const { id, owner } = await task({ letterIds: ids }, 1);
    const sent = await db().redriveItem.findMany({ where: { taskId: id }, orderBy: { seq: 'asc' } });
    const last = sent[2].letterId;
    const clock = fakeClock(async (n) => {
      if (n === 1) await db().deadLetter.update({ where: { id: last }, data: { status: 'resolved', resolution: 'retry' } });
    });
    const result = await runTask(id, { owner, clock, target: countingBus(clock.now) });
    assert.deepEqual([result.end, result.sent, result.skipped], ['completed', 2, 1]);
    const item = await db().redriveItem.findUniqueOrThrow({ where: { taskId_letterId: { taskId: id, letterId: last } } });
    assert.deepEqual([item.status, item.reason], ['skipped', 'the letter was resolved when its turn came']);
    assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: last } })).resolution, 'retry', 'its resolution is not rewritten');
  });

  it('a send Kafka refuses for now leaves the batch pending with the reason on the task and the lease given back; the next runner sends it', async () => {
    const ids = await letters(2);
    const { id, owner } = await task({ letterIds: ids }, 100);
    const clock = fakeClock();
    const refusing = countingBus(clock.now, () => { throw Object.assign(new Error('Connection error: ECONNREFUSED'), { retriable: true }); });
    const first = await runTask(id, { owner, clock, target: refusing });
    assert.deepEqual([first.end, first.sent], ['send-failed', 0]);
    const after = await db().redriveTask.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([after.status, after.sent, after.leaseOwner, after.error], ['running', 0, null, 'sending to Kafka failed: Connection error: ECONNREFUSED']);
    const second = await runTask(id, { clock, target: countingBus(clock.now) });
    assert.deepEqual([second.end, second.sent], ['completed', 2]);
    assert.equal((await findTask(id))!.error, null);
  });

  it('a send that fails half-way (Kafka took some records, then the connection dropped): the next runner finds those on the topic and sends only the rest', async () => {
    const ids = await letters(6);
    const originals = await db().deadLetter.findMany({ where: { id: { in: ids } } });
    const { id, owner } = await task({ letterIds: ids }, 100);
    const since = ends('booking-requests');
    const clock = fakeClock();
    const halfWay: Bus = {
      kind: 'memory',
      send: async (records) => {
        memoryBus.append(records.slice(0, 2));
        throw Object.assign(new Error('Connection error: ECONNRESET'), { retriable: true });
      },
      close: async () => undefined,
    };
    const first = await runTask(id, { owner, clock, target: halfWay });
    assert.deepEqual([first.end, first.sent], ['send-failed', 0]);
    assert.equal(redrivenIds(since).length, 2, 'two records went out unrecorded');

    const second = await runTask(id, { clock, target: countingBus(clock.now) });
    assert.deepEqual([second.end, second.found, second.sent], ['completed', 2, 4]);
    const sent = redrivenIds(since);
    assert.equal(sent.length, 6);
    assert.deepEqual(new Set(sent), new Set(originals.map((l) => l.eventId)), 'every letter once');
    const done = await db().redriveTask.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([done.status, done.sent, done.unconfirmedFrom], ['completed', 6, null]);
    assert.equal(await db().deadLetter.count({ where: { id: { in: ids }, status: 'resolved', resolution: 'redrive' } }), 6);
  });

  it('a runner that cannot read the topics back to where the last recorded batch left them sends nothing, and says why on the task', async () => {
    const ids = await letters(2);
    const { id, owner } = await task({ letterIds: ids }, 100);
    const clock = fakeClock();
    await runTask(id, { owner, clock, target: countingBus(clock.now, () => { throw Object.assign(new Error('Connection error: ECONNRESET'), { retriable: true }); }) });
    const busy = { ...countingBus(clock.now), marked: async () => ({ found: [], ends: new Map(), read: 100_000, complete: false }) };
    const result = await runTask(id, { clock, target: busy });
    assert.deepEqual([result.end, result.sent, busy.sends], ['unreconciled', 0, []]);
    const stuck = await db().redriveTask.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([stuck.status, stuck.leaseOwner], ['running', null]);
    assert.match(stuck.error!, /^not resumed: which records the runner before sent without recording them could not be told \(booking-requests was not read to its end \(100000 records read/);
  });

  it('a send Kafka refuses for good (a record too large) fails the task, leaving its letters as they were', async () => {
    const ids = await letters(1);
    const { id, owner } = await task({ letterIds: ids }, 100);
    const clock = fakeClock();
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', retriable: false });
    const result = await runTask(id, { owner, clock, target: countingBus(clock.now, () => { throw tooLarge; }) });
    assert.equal(result.end, 'failed');
    const failed = await db().redriveTask.findUniqueOrThrow({ where: { id } });
    assert.equal(failed.status, 'failed');
    assert.match(failed.error!, /larger than the max message size/);
    assert.ok(failed.finishedAt);
    assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: ids[0] } })).status, 'parked');
  });

  it('a send Kafka refuses for good after taking part of the batch: the task fails, and the letters whose records went out are recorded sent', async () => {
    const ids = await letters(3);
    const { id, owner } = await task({ letterIds: ids }, 100);
    const since = ends('booking-requests');
    const clock = fakeClock();
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', retriable: false });
    const partly = { ...countingBus(clock.now), send: async (records: BusRecord[]) => { memoryBus.append(records.slice(0, 1)); throw tooLarge; } };
    assert.equal((await runTask(id, { owner, clock, target: partly })).end, 'failed');
    const failed = await db().redriveTask.findUniqueOrThrow({ where: { id } });
    assert.deepEqual([failed.status, failed.sent], ['failed', 1]);
    assert.match(failed.error!, /larger than the max message size.*; 1 of its records had gone out before and are recorded sent$/);
    const [landed] = redrivenIds(since);
    const statuses = await db().deadLetter.findMany({ where: { id: { in: ids } } });
    assert.deepEqual(statuses.map((l) => [l.eventId === landed, l.status]).sort(), [[false, 'parked'], [false, 'parked'], [true, 'resolved']]);
  });

  it('does not run a task another runner holds', async () => {
    const ids = await letters(1);
    const { id } = await task({ letterIds: ids }, 100, 'someone-else');
    const clock = fakeClock();
    const target = countingBus(clock.now);
    assert.equal((await runTask(id, { clock, target })).end, 'lease-held');
    assert.deepEqual(target.sends, []);
  });
});
