// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// Notifications older than the retention (NOTIFICATION_RETENTION_DAYS, 180) with their deliveries and their
// history (ON DELETE CASCADE), inbox items as old, consumer inbox rows (CloudEvents already handled) past
// theirs, idempotency records past theirs. Each DELETE is safe to run twice, or in two runs at once.
import { db, tableOf, Prisma } from '../../shared/db';
import { system } from '../system';
import type { IntakeSettings } from '../intake/settings';

const DELETE_BATCH = 1000;
const DAY = 86_400_000;

const notifications = tableOf(system, 'notification');
const inboxItems = tableOf(system, 'inbox_item');
const events = tableOf(system, 'inbox_event');
const idempotency = tableOf(system, 'idempotency_record');

async function inBatches(statement: () => Prisma.Sql): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await db().$executeRaw(statement());
    removed += n;
    if (n < DELETE_BATCH) return removed;
  }
}

const before = (now: Date, days: number) => new Date(now.getTime() - days * DAY);

export async function cleanUp(now: Date, settings: IntakeSettings): Promise<Record<'notifications' | 'inboxItems' | 'events' | 'idempotencyRecords', number>> {
  const kept = before(now, settings.retentionDays);
  const eventsKept = before(now, settings.eventRetentionDays);
  const idempotencyKept = before(now, settings.idempotencyRetentionDays);
  return {
    notifications: await inBatches(() => Prisma.sql`
      DELETE FROM ${notifications} WHERE id IN (SELECT id FROM ${notifications} WHERE created_at < ${kept}::timestamptz LIMIT ${DELETE_BATCH})`),
    inboxItems: await inBatches(() => Prisma.sql`
      DELETE FROM ${inboxItems} WHERE id IN (SELECT id FROM ${inboxItems} WHERE created_at < ${kept}::timestamptz LIMIT ${DELETE_BATCH})`),
    events: await inBatches(() => Prisma.sql`
      DELETE FROM ${events} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${events} WHERE processed_at < ${eventsKept}::timestamptz LIMIT ${DELETE_BATCH}))`),
    idempotencyRecords: await inBatches(() => Prisma.sql`
      DELETE FROM ${idempotency} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${idempotency} WHERE created_at < ${idempotencyKept}::timestamptz LIMIT ${DELETE_BATCH}))`),
  };
}
