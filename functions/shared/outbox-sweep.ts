// A system's batch publisher, as every system runs one: its events normally leave the outbox right after their
// transaction commits; this sweep, run by a PingSource every minute, sends whatever could not be sent then
// (Kafka down, a replica stopped between commit and publish), oldest first, so nothing is lost and one key's
// events keep their order. Each system runs its own, so one system's Kafka trouble never holds another's
// events. It also serves the system's gauges (its outbox's backlog and age, and what the system declares).
import { scheduled, WorkFailed, type ScheduledHandler } from './scheduled';
import { drainOutbox, outboxBacklog } from './publisher';
import { systemGauges, type SystemGauges } from './metrics';
import type { System } from './system';

export function outboxSweep(system: System, gauges: SystemGauges = systemGauges(system)): ScheduledHandler {
  return scheduled(
    { name: `${system.name}-outbox-publisher`, system, schedule: '* * * * *', summary: `Publish ${system.name} outbox events not yet sent to Kafka`, gauges },
    async (log) => {
      const result = await drainOutbox(system);
      const backlog = await outboxBacklog(system);
      if (result.error) throw new WorkFailed(`Kafka refused the batch (${result.error}); ${backlog} events wait in the outbox`);
      if (result.published) log.info({ published: result.published, backlog }, 'outbox swept');
      return { published: result.published, backlog, skipped: !result.locked ? 'another publisher is running' : undefined };
    },
  );
}
