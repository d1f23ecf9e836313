// An operator redrives dead letters (a few, or a whole group) to the topics they came from, once the consumer
// that refused them is fixed. A dry run says what would go where, and warns where a letter's key has newer
// events that already went through. A real run is a task (202, Location to watch it) whose runner starts
// here at once; the redrive worker resumes it should this replica go away.
import { route, ok } from '../../shared/http';
import { conflict, invalid, notFound } from '../../shared/domain-errors';
import { actor, letters } from '../letters';
import { createTask, plan, runInBackground, runnerId, taskView, DEFAULT_RATE, type Selection } from '../redrive-task';
import { system } from '../system';
import { body, plan as planView, started } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'dead-letter-redrive', system, method: 'POST', path: '/api/dead-letters/redrive',
    summary: 'Redrive dead letters to their original topics, as a task (dryRun: the plan only)', auth: ['staff'], grant: 'operator', body,
    responses: {
      200: { description: 'dry run: what would be sent to which topic, in order, with warnings', schema: planView },
      202: { description: 'the redrive task, started (Location: where to watch it)', schema: started },
    },
    refuses: {
      'not-found': 'a letter named in letterIds does not exist',
      conflict: 'nothing to redrive: no letter of the selection is open, parked or retrying outside a running redrive',
      invalid: 'letterIds or group, one of them',
    },
  },
  async ({ body, caller, db, transaction, log }) => {
    if (!body.letterIds === !body.group) throw invalid('give letterIds or group (one of them)', body.letterIds ? 'group' : 'letterIds');
    const selection: Selection = body.letterIds ? { letterIds: body.letterIds } : { group: body.group! };
    if (body.letterIds) {
      const found = await db.$queryRaw<Array<{ id: string }>>`SELECT id::text AS id FROM ${letters} WHERE id = ANY(${body.letterIds}::uuid[])`;
      const missing = body.letterIds.find((id) => !found.some((f) => f.id === id));
      if (missing) throw notFound('letterIds', `no such letter: ${missing}`);
    }
    if (body.dryRun) return ok(await plan(selection));
    const owner = runnerId();
    const task = await transaction((tx) => createTask(tx, selection, body.ratePerSecond ?? DEFAULT_RATE, actor(caller), owner));
    if (!task) throw conflict('nothing to redrive: no letter of the selection is open, parked or retrying outside a running redrive', body.letterIds ? 'letterIds' : 'group');
    runInBackground(task.id, { owner }, log);
    return { status: 202, body: { task: taskView(task) }, headers: { location: `/api/dead-letters/redrives?taskId=${task.id}` } };
  },
);
