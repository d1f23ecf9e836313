// Carries on redrives whose runner went away: every minute (PingSource) it takes the running tasks whose lease
// has expired or was given back and runs each for about 50 s, from its first item not yet sent (after finding
// on the topics what the runner before sent without recording it); the rest is left to the next ping. A
// redrive started by the route keeps its lease while its runner lives, so the worker never runs a task twice
// at once.
import { scheduled, WorkFailed } from '../../shared/scheduled';
import { orphanedTasks, realClock, runTask } from '../redrive-task';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

/** A ping's share of work, so one run ends before the next ping (every minute). */
const SHARE_MS = 50_000;

export const handle = scheduled(
  { name: 'dead-letter-redrive-worker', system, schedule: '* * * * *', summary: 'Resume redrive tasks whose runner went away' },
  async (log) => {
    const until = realClock.now() + SHARE_MS;
    const ids = await orphanedTasks();
    const runs = await Promise.all(ids.map((id) => runTask(id, { until, log })));
    const summary = {
      resumed: ids.length,
      sent: runs.reduce((n, r) => n + r.sent, 0),
      skipped: runs.reduce((n, r) => n + r.skipped, 0),
      completed: runs.filter((r) => r.end === 'completed').length,
    };
    if (ids.length) log.info(summary, 'redrive tasks resumed');
    const refused = runs.filter((r) => r.end === 'send-failed').length;
    const untold = runs.filter((r) => r.end === 'unreconciled').length;
    // The tasks stay running (each says why on it); the next ping tries again.
    if (refused || untold) {
      throw new WorkFailed([
        refused && `Kafka refused ${refused} of ${ids.length} redrive tasks' batches`,
        untold && `${untold} of ${ids.length} redrive tasks could not be taken over (what their last runner sent could not be read back)`,
      ].filter(Boolean).join('; ') + '; they carry on at the next ping');
    }
    return summary;
  },
);
