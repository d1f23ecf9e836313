// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// HL7 control ids and inbox rows past their retention (a LIS resend or a redelivery older than that is not
// expected), outbox rows published long ago, idempotency records past theirs. Reports, observations and
// their audit trail are the lab's record and are never removed here. Each DELETE is safe to run twice.
import { tableOf, Prisma } from '../../shared/db';
import { RETENTION_BATCH, daysBefore, deleteInBatches } from '../../shared/retention';
import { system } from '../system';
import type { CronSettings } from './settings';

const hl7 = tableOf(system, 'hl7_message');
const inbox = tableOf(system, 'inbox_event');
const outbox = tableOf(system, 'outbox_event');
const idempotency = tableOf(system, 'idempotency_record');

export async function cleanUp(now: Date, settings: CronSettings): Promise<Record<'hl7Messages' | 'inbox' | 'outbox' | 'idempotencyRecords', number>> {
  const hl7Cutoff = daysBefore(now, settings.hl7RetentionDays);
  const inboxCutoff = daysBefore(now, settings.inboxRetentionDays);
  const outboxCutoff = daysBefore(now, settings.outboxRetentionDays);
  const idempotencyCutoff = daysBefore(now, settings.idempotencyRetentionDays);
  return {
    hl7Messages: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${hl7} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${hl7} WHERE received_at < ${hl7Cutoff}::timestamptz LIMIT ${RETENTION_BATCH}))`),
    inbox: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${inbox} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${inbox} WHERE processed_at < ${inboxCutoff}::timestamptz LIMIT ${RETENTION_BATCH}))`),
    // Only published rows: one still waiting for the publisher is never lost to a cleanup.
    outbox: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${outbox} WHERE seq IN (SELECT seq FROM ${outbox} WHERE published_at < ${outboxCutoff}::timestamptz LIMIT ${RETENTION_BATCH})`),
    idempotencyRecords: await deleteInBatches(() => Prisma.sql`
      DELETE FROM ${idempotency} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${idempotency} WHERE created_at < ${idempotencyCutoff}::timestamptz LIMIT ${RETENTION_BATCH}))`),
  };
}
