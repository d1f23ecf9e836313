// Operators watch redrives: the newest tasks, or one task with its progress (total, sent, skipped, the error
// of a send that failed) and the letters it skipped with the reason for each.
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { findTask, newestTasks, skippedLetters, taskView } from '../redrive-task';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'dead-letter-redrives', system, method: 'GET', path: '/api/dead-letters/redrives',
    summary: 'Redrive tasks, newest first, or one task with its progress', auth: ['staff'], grant: 'operator', query,
    responses: { 200: { description: '{tasks} newest first, or {task, skippedLetters} for taskId', schema: view } },
    refuses: { 'not-found': 'no such redrive task' },
  },
  async ({ query }) => {
    if (!query.taskId) return ok({ tasks: (await newestTasks(query.limit ?? 50)).map(taskView) });
    const task = await findTask(query.taskId);
    if (!task) throw notFound('taskId', 'no such redrive task');
    return ok({ task: taskView(task), skippedLetters: await skippedLetters(task.id, 200) });
  },
);
