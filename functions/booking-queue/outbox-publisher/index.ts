// The booking queue's batch publisher. Its events normally leave the outbox right after their transaction
// commits; this sweep, run by a PingSource every minute, sends whatever could not be sent then (Kafka down, a
// replica killed between commit and publish), oldest first, so nothing is lost and one key's events keep
// their order. Each system runs its own, so one system's Kafka trouble never holds another's events.
import { scheduled, WorkFailed } from '../../shared/scheduled';
import { drainOutbox, outboxBacklog } from '../../shared/publisher';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';
import { gauges } from '../metrics';

export const handle = scheduled(
  { name: 'booking-queue-outbox-publisher', system, schedule: '* * * * *', summary: 'Publish booking-queue outbox events not yet sent to Kafka', gauges },
  async (log) => {
    const result = await drainOutbox(system);
    const backlog = await outboxBacklog(system);
    if (result.error) throw new WorkFailed(`Kafka refused the batch (${result.error}); ${backlog} events wait in the outbox`);
    if (result.published) log.info({ published: result.published, backlog }, 'outbox swept');
    return { published: result.published, backlog, skipped: !result.locked ? 'another publisher is running' : undefined };
  },
);
