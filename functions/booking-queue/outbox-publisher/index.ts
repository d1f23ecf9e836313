// The batch publisher. Events normally leave the outbox right after their transaction commits; this sweep,
// run by a PingSource every minute, sends whatever could not be sent then (Kafka down, a replica killed
// between commit and publish), oldest first, so nothing is lost and one key's events keep their order.
import { scheduled, WorkFailed } from '../../shared/scheduled';
import { drainOutbox } from '../../shared/outbox';
import { db } from '../../shared/db';

export const handle = scheduled(
  { name: 'outbox-publisher', system: 'platform', schedule: '* * * * *', summary: 'Publish outbox events not yet sent to Kafka' },
  async (log) => {
    const result = await drainOutbox();
    const backlog = await db().outboxEvent.count({ where: { publishedAt: null } });
    if (result.error) throw new WorkFailed(`Kafka refused the batch (${result.error}); ${backlog} events wait in the outbox`);
    if (result.published) log.info({ published: result.published, backlog }, 'outbox swept');
    return { published: result.published, backlog, skipped: !result.locked ? 'another publisher is running' : undefined };
  },
);
