// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// Notifications older than the retention (NOTIFICATION_RETENTION_DAYS, 180) with their deliveries and their
// history (ON DELETE CASCADE), inbox items as old, consumer inbox rows (CloudEvents already handled) past
// theirs, idempotency records past theirs. Each DELETE is safe to run twice, or in two runs at once.
import { tableOf, Prisma } from '../../shared/db';
import { RETENTION_BATCH, daysBefore, deleteInBatches, deleteOlderThan } from '../../shared/retention';
import { system } from '../system';
import type { IntakeSettings } from '../intake/settings';


const notifications = tableOf(system, 'notification');
const inboxItems = tableOf(system, 'inbox_item');
const events = tableOf(system, 'inbox_event');
const idempotency = tableOf(system, 'idempotency_record');

export async function cleanUp(now: Date, settings: IntakeSettings): Promise<Record<'notifications' | 'inboxItems' | 'events' | 'idempotencyRecords', number>> {
  const kept = daysBefore(now, settings.retentionDays);
  const eventsKept = daysBefore(now, settings.eventRetentionDays);
  const idempotencyKept = daysBefore(now, settings.idempotencyRetentionDays);
  return {
    notifications: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${notifications} WHERE id IN (SELECT id FROM ${notifications} WHERE created_at < ${kept}::timestamptz LIMIT ${RETENTION_BATCH})`),
    inboxItems: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${inboxItems} WHERE id IN (SELECT id FROM ${inboxItems} WHERE created_at < ${kept}::timestamptz LIMIT ${RETENTION_BATCH})`),
    events: await deleteOlderThan(events, 'processed_at', eventsKept),
    idempotencyRecords: await deleteOlderThan(idempotency, 'created_at', idempotencyKept),
  };
}
