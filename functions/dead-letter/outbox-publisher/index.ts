// The dead-letter system's batch publisher. Its events (retries due, alerts, reports, notification requests)
// normally leave the outbox right after their transaction commits; this sweep, run by a PingSource every
// minute, sends whatever could not be sent then (Kafka down, a replica stopped between commit and publish),
// oldest first, so no retry or alert is lost. It serves the system's outbox gauges (backlog, oldest age).
import { scheduled, WorkFailed } from '../../shared/scheduled';
import { drainOutbox, outboxBacklog } from '../../shared/publisher';
import { systemGauges } from '../../shared/metrics';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = scheduled(
  { name: 'dead-letter-outbox-publisher', system, schedule: '* * * * *', summary: 'Publish dead-letter outbox events not yet sent to Kafka', gauges: systemGauges(system) },
  async (log) => {
    const result = await drainOutbox(system);
    const backlog = await outboxBacklog(system);
    if (result.error) throw new WorkFailed(`Kafka refused the batch (${result.error}); ${backlog} events wait in the outbox`);
    if (result.published) log.info({ published: result.published, backlog }, 'outbox swept');
    return { published: result.published, backlog, skipped: !result.locked ? 'another publisher is running' : undefined };
  },
);
