// Watching redrives: the newest tasks first, or one task with its progress and what it skipped.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, resetDatabase, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { operatorToken } from '../../../test/support/dead-letters';

describe('dead-letter-redrives (GET /api/dead-letters/redrives)', () => {
  let running: RunningFunction;
  const operator = operatorToken();
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  const task = (createdAt: Date, extra: Record<string, unknown> = {}) => db().redriveTask.create({
    data: { id: randomUUID(), selection: { group: 'g1' }, ratePerSecond: 100, total: 3, createdBy: 'staff:ops-1', createdAt, ...extra },
  });

  it('lists tasks newest first, as many as asked', async () => {
    const older = await task(new Date('2026-11-20T08:00:00Z'), { status: 'completed', sent: 3, finishedAt: new Date('2026-11-20T08:00:02Z') });
    const newer = await task(new Date('2026-11-21T08:00:00Z'));
    const res = await call(running.url, { token: operator });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tasks.map((t: { id: string }) => t.id), [newer.id, older.id]);
    assert.deepEqual(res.body.tasks[1], {
      id: older.id, status: 'completed', selection: { group: 'g1' }, ratePerSecond: 100, total: 3, sent: 3, skipped: 0, createdBy: 'staff:ops-1',
      createdAt: '2026-11-20T08:00:00.000Z', updatedAt: older.updatedAt.toISOString(), finishedAt: '2026-11-20T08:00:02.000Z', error: null,
    });
    assert.deepEqual((await call(running.url, { token: operator, query: { limit: '1' } })).body.tasks.map((t: { id: string }) => t.id), [newer.id]);
  });

  it('one task with its progress and the letters it skipped with why; an unknown task is 404; only operators', async () => {
    const t = await task(new Date(), { sent: 1, skipped: 1 });
    const [sent, skipped, pending] = [randomUUID(), randomUUID(), randomUUID()];
    await db().redriveItem.createMany({ data: [
      { taskId: t.id, letterId: sent, seq: 1, status: 'sent' },
      { taskId: t.id, letterId: skipped, seq: 2, status: 'skipped', reason: 'the letter was discarded when its turn came' },
      { taskId: t.id, letterId: pending, seq: 3 },
    ] });
    const res = await call(running.url, { token: operator, query: { taskId: t.id } });
    assert.deepEqual([res.body.task.status, res.body.task.total, res.body.task.sent, res.body.task.skipped], ['running', 3, 1, 1]);
    assert.deepEqual(res.body.skippedLetters, [{ letterId: skipped, reason: 'the letter was discarded when its turn came' }]);
    const missing = await call(running.url, { token: operator, query: { taskId: randomUUID() } });
    assert.deepEqual([missing.status, missing.body['invalid-params'][0].name], [404, 'query/taskId']);
    assert.equal((await call(running.url, { token: staffToken(), query: { taskId: t.id } })).status, 403);
  });
});
