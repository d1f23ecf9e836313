// The worker carries on redrives whose runner went away: a runner stopped half-way keeps its lease until it
// expires; then the worker resumes from the first item not yet sent (finding first, on the topic, what the
// runner sent without recording it), and every letter goes out once in all.
import { strict as assert } from 'node:assert';
import * as fn from './index';
import * as intakeFn from '../intake/index';
import { db } from '../../shared/db';
import type { Bus } from '../../shared/bus';
import { memoryBus } from '../../../scripts/lib/laptop/memory-bus';
import { startFunction, call, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { deadLetter, ends, keepLetters, produce, redriven, runnerDiedUnrecorded } from '../../../test/support/redrive';
import { createTask, runTask, runnerId } from '../redrive-task';

const ping = (url: string) => call(url, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'p1', 'ce-source': '/ping', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' }, raw: '{}' });

describe('dead-letter-redrive-worker (scheduled job)', () => {
  let running: RunningFunction;
  let intake: RunningFunction;
  before(async () => { [running, intake] = await Promise.all([startFunction(fn), startFunction(intakeFn)]); });
  after(async () => { await Promise.all([running.close(), intake.close()]); });
  beforeEach(resetDatabase);

  it('resumes a runner stopped half-way once its lease has expired: every letter sent once in all, the task completed', async () => {
    const originals = produce(Array.from({ length: 250 }, (_, i) => ({ key: `p-${i % 7}`, partition: i % 3 })));
    const ids: string[] = [];
    for (const o of originals) ids.push(await deadLetter(intake.url, o));
    const owner = runnerId();
    const task = (await db().$transaction((tx) => createTask(tx, { letterIds: ids }, 500, 'staff:ops-1', owner)))!;
    const before = ends('booking-requests');

    // The runner's process is killed after its first batch (100 records) went out and was recorded.
    const stop = new AbortController();
    const dying: Bus = { kind: 'memory', send: async (records) => { memoryBus.append(records); stop.abort(); }, close: async () => undefined };
    const first = await runTask(task.id, { owner, target: dying, signal: stop.signal });
    assert.deepEqual([first.end, first.sent], ['aborted', 100]);

    const held = await ping(running.url);
    assert.deepEqual([held.status, held.body.resumed], [200, 0], 'the lease of a runner that may still live is respected');
    await db().redriveTask.update({ where: { id: task.id }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    const resumed = await ping(running.url);
    assert.deepEqual([resumed.status, resumed.body], [200, { resumed: 1, sent: 150, skipped: 0, completed: 1 }]);

    const sent = redriven('booking-requests', new Set(originals.map((o) => o.id)), before);
    assert.equal(sent.length, 250);
    assert.equal(new Set(sent.map((r) => r.headers.ce_id)).size, 250, 'no letter sent twice');
    const stored = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([stored.status, stored.sent, stored.skipped, stored.leaseOwner], ['completed', 250, 0, null]);
    assert.equal(await db().deadLetter.count({ where: { id: { in: ids }, status: 'resolved', resolution: 'redrive' } }), 250);
  });

  it('resumes a runner that died between Kafka\'s acks and its commits, batches unrecorded: it finds them on the topic and sends only the rest, every letter once', async () => {
    const eventIds = await keepLetters(3_500, 'redrive-resume', 'g-resume');
    const task = await runnerDiedUnrecorded('g-resume');
    const marked = () => memoryBus.records('redrive-resume').filter((r) => r.headers['medlab-redrive-item']?.startsWith(`${task.id}:`));
    const wentOut = marked().length;
    const died = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([died.status, died.sent, died.sentThrough], ['running', 500, 500], 'only the first batch is recorded');
    assert.ok(wentOut > 1_000 && wentOut < 3_500, `${wentOut} records went out, ${wentOut - 500} of them unrecorded`);

    await db().redriveTask.update({ where: { id: task.id }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    const resumed = await ping(running.url);
    assert.deepEqual([resumed.status, resumed.body], [200, { resumed: 1, sent: 3_500 - wentOut, skipped: 0, completed: 1 }], 'the worker sends only what had not gone out');
    const ids = marked().map((r) => r.headers.ce_id);
    assert.equal(ids.length, 3_500);
    assert.deepEqual(new Set(ids), new Set(eventIds), 'every letter once on the topic');
    const done = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([done.status, done.sent, done.skipped], ['completed', 3_500, 0]);
    assert.equal(await db().deadLetter.count({ where: { fingerprint: 'g-resume', status: 'resolved', resolution: 'redrive' } }), 3_500);
  });

  it('has nothing to do when no task is orphaned', async () => {
    const res = await ping(running.url);
    assert.deepEqual([res.status, res.body], [200, { resumed: 0, sent: 0, skipped: 0, completed: 0 }]);
  });
});
