// An operator cancels a running redrive. The task says cancelled at once; its runner stops before its next
// batch (a batch already on its way is still recorded as sent). Letters not yet sent stay as they were.
import { route, ok } from '../../shared/http';
import { conflict, notFound } from '../../shared/domain-errors';
import { actor } from '../letters';
import { cancelTask, findTask, taskView } from '../redrive-task';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'dead-letter-redrive-cancel', system, method: 'POST', path: '/api/dead-letters/redrives/cancel',
    summary: 'Cancel a running redrive task', auth: ['staff'], grant: 'operator', body,
    responses: { 200: { description: 'the cancelled task', schema: view } },
    refuses: { 'not-found': 'no such redrive task', conflict: 'the task has already finished (completed, cancelled or failed)' },
  },
  async ({ body, caller }) => {
    const cancelled = await cancelTask(body.taskId, actor(caller));
    if (cancelled) return ok({ task: taskView(cancelled) });
    const task = await findTask(body.taskId);
    if (!task) throw notFound('taskId', 'no such redrive task');
    throw conflict(`the redrive task has already finished (${task.status})`, 'taskId');
  },
);
