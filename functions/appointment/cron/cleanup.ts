// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// Inbox rows and HL7 control ids past their retention (a redelivery or a LIS resend older than that is not
// expected), idempotency records past theirs, and holds that lapsed unconfirmed long ago, with their rows
// (holdings, timeline: ON DELETE CASCADE). Each DELETE is safe to run twice, or in two runs at once.
import { db, tableOf, Prisma } from '../../shared/db';
import { system } from '../system';
import type { CronSettings } from './settings';

const DELETE_BATCH = 1000;
const DAY = 86_400_000;

const inbox = tableOf(system, 'inbox_event');
const hl7 = tableOf(system, 'hl7_message');
const idempotency = tableOf(system, 'idempotency_record');
const appointments = tableOf(system, 'appointment');

async function inBatches(statement: () => Prisma.Sql): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await db().$executeRaw(statement());
    removed += n;
    if (n < DELETE_BATCH) return removed;
  }
}

const before = (now: Date, days: number) => new Date(now.getTime() - days * DAY);

export async function cleanUp(now: Date, settings: CronSettings): Promise<Record<'inbox' | 'hl7Messages' | 'idempotencyRecords' | 'expiredHolds', number>> {
  const inboxCutoff = before(now, settings.inboxRetentionDays);
  const hl7Cutoff = before(now, settings.hl7RetentionDays);
  const idempotencyCutoff = before(now, settings.idempotencyRetentionDays);
  const holdCutoff = before(now, settings.expiredHoldRetentionDays);
  return {
    inbox: await inBatches(() => Prisma.sql`
      DELETE FROM ${inbox} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${inbox} WHERE processed_at < ${inboxCutoff}::timestamptz LIMIT ${DELETE_BATCH}))`),
    hl7Messages: await inBatches(() => Prisma.sql`
      DELETE FROM ${hl7} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${hl7} WHERE received_at < ${hl7Cutoff}::timestamptz LIMIT ${DELETE_BATCH}))`),
    idempotencyRecords: await inBatches(() => Prisma.sql`
      DELETE FROM ${idempotency} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${idempotency} WHERE created_at < ${idempotencyCutoff}::timestamptz LIMIT ${DELETE_BATCH}))`),
    // A lapsed hold was cancelled within a minute of its holdExpiresAt: that is when it was cancelled.
    expiredHolds: await inBatches(() => Prisma.sql`
      DELETE FROM ${appointments} WHERE id IN (
        SELECT id FROM ${appointments}
        WHERE status = 'cancelled' AND cancel_reason = 'hold-expired' AND hold_expires_at < ${holdCutoff}::timestamptz
        LIMIT ${DELETE_BATCH})`),
  };
}
