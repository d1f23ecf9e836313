// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// Inbox rows and HL7 control ids past their retention (a redelivery or a LIS resend older than that is not
// expected), idempotency records past theirs, and holds that lapsed unconfirmed long ago, with their rows
// (holdings, timeline: ON DELETE CASCADE). Each DELETE is safe to run twice, or in two runs at once.
import { tableOf, Prisma } from '../../shared/db';
import { RETENTION_BATCH, daysBefore, deleteInBatches, deleteOlderThan } from '../../shared/retention';
import { system } from '../system';
import type { CronSettings } from './settings';


const inbox = tableOf(system, 'inbox_event');
const hl7 = tableOf(system, 'hl7_message');
const idempotency = tableOf(system, 'idempotency_record');
const appointments = tableOf(system, 'appointment');

export async function cleanUp(now: Date, settings: CronSettings): Promise<Record<'inbox' | 'hl7Messages' | 'idempotencyRecords' | 'expiredHolds', number>> {
  const inboxCutoff = daysBefore(now, settings.inboxRetentionDays);
  const hl7Cutoff = daysBefore(now, settings.hl7RetentionDays);
  const idempotencyCutoff = daysBefore(now, settings.idempotencyRetentionDays);
  const holdCutoff = daysBefore(now, settings.expiredHoldRetentionDays);
  return {
    inbox: await deleteOlderThan(inbox, 'processed_at', inboxCutoff),
    hl7Messages: await deleteOlderThan(hl7, 'received_at', hl7Cutoff),
    idempotencyRecords: await deleteOlderThan(idempotency, 'created_at', idempotencyCutoff),
    // A lapsed hold was cancelled within a minute of its holdExpiresAt: that is when it was cancelled.
    expiredHolds: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${appointments} WHERE id IN (
        SELECT id FROM ${appointments}
        WHERE status = 'cancelled' AND cancel_reason = 'hold-expired' AND hold_expires_at < ${holdCutoff}::timestamptz
        LIMIT ${RETENTION_BATCH})`),
  };
}
