// Cancelling a redrive: the task says cancelled at once and its runner stops before its next batch.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import * as intakeFn from '../intake/index';
import { db } from '../../shared/db';
import { memoryBus } from '../../../scripts/lib/laptop/memory-bus';
import { startFunction, call, resetDatabase, staffToken, type Answer, type RunningFunction } from '../../../test/support/fixtures';
import { deadLetter, ends, fakeClock, produce, redriven } from '../../../test/support/redrive';
import { operatorToken } from '../../../test/support/dead-letters';
import { createTask, runTask, runnerId } from '../redrive-task';

describe('dead-letter-redrive-cancel (POST /api/dead-letters/redrives/cancel)', () => {
  let running: RunningFunction;
  let intake: RunningFunction;
  const operator = operatorToken(['operator'], 'ops-2');
  before(async () => { [running, intake] = await Promise.all([startFunction(fn), startFunction(intakeFn)]); });
  after(async () => { await Promise.all([running.close(), intake.close()]); });
  beforeEach(resetDatabase);

  it('stops a running redrive before its next batch: what was sent stays sent, the rest stay as they were', async () => {
    const originals = produce(Array.from({ length: 6 }, (_, i) => ({ key: `p-${i}`, partition: 0 })));
    const ids: string[] = [];
    for (const o of originals) ids.push(await deadLetter(intake.url, o));
    const owner = runnerId();
    const task = (await db().$transaction((tx) => createTask(tx, { letterIds: ids }, 5, 'staff:ops-1', owner)))!;
    const before = ends('booking-requests');
    let answer: Answer | undefined;
    // The operator cancels while the runner waits for its second batch (a rate of 5: one record each 200 ms).
    const clock = fakeClock(async (n) => { if (n === 1) answer = await call(running.url, { token: operator, body: { taskId: task.id } }); });
    const result = await runTask(task.id, { owner, clock, target: memoryBus });
    assert.deepEqual([answer!.status, answer!.body.task.status, answer!.body.task.error], [200, 'cancelled', 'cancelled by staff:ops-2']);
    assert.ok(answer!.body.task.finishedAt);
    assert.deepEqual([result.end, result.sent], ['not-running', 1]);
    assert.equal(redriven('booking-requests', new Set(originals.map((o) => o.id)), before).length, 1);
    const stored = await db().redriveTask.findUniqueOrThrow({ where: { id: task.id } });
    assert.deepEqual([stored.status, stored.sent, stored.leaseOwner], ['cancelled', 1, null]);
    const statuses = (await db().deadLetter.findMany({ where: { id: { in: ids } } })).map((l) => l.status).sort();
    assert.deepEqual(statuses, ['parked', 'parked', 'parked', 'parked', 'parked', 'resolved']);
  });

  it('a finished task answers 409 (cancelled twice, or completed); an unknown one 404; staff without the operator grant 403', async () => {
    const [o] = produce([{ key: 'p-a', partition: 0 }]);
    const id = await deadLetter(intake.url, o);
    const owner = runnerId();
    const task = (await db().$transaction((tx) => createTask(tx, { letterIds: [id] }, 100, 'staff:ops-1', owner)))!;
    assert.equal((await call(running.url, { token: staffToken(), body: { taskId: task.id } })).status, 403);
    assert.equal((await call(running.url, { token: operator, body: { taskId: task.id } })).status, 200);
    const twice = await call(running.url, { token: operator, body: { taskId: task.id } });
    assert.deepEqual([twice.status, twice.body.detail, twice.body['invalid-params'][0].name], [409, 'the redrive task has already finished (cancelled)', 'body/taskId']);
    const done = (await db().$transaction((tx) => createTask(tx, { letterIds: [id] }, 100, 'staff:ops-1', owner)))!;
    await runTask(done.id, { owner, target: memoryBus });
    assert.equal((await call(running.url, { token: operator, body: { taskId: done.id } })).body.detail, 'the redrive task has already finished (completed)');
    const unknown = await call(running.url, { token: operator, body: { taskId: randomUUID() } });
    assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [404, 'body/taskId']);
  });
});
