// Every night: what nothing needs any more is removed, in batches so no statement holds a table for long.
// HL7 control ids and inbox rows past their retention (a LIS resend or a redelivery older than that is not
// expected), outbox rows published long ago, idempotency records past theirs. Reports, observations and
// their audit trail are the lab's record and are never removed here. Each DELETE is safe to run twice.
import { tableOf } from '../../shared/db';
import { daysBefore, deleteOlderThan } from '../../shared/retention';
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
    hl7Messages: await deleteOlderThan(hl7, 'received_at', hl7Cutoff),
    inbox: await deleteOlderThan(inbox, 'processed_at', inboxCutoff),
    // Only published rows: one still waiting for the publisher is never lost to a cleanup.
    outbox: await deleteOlderThan(outbox, 'published_at', outboxCutoff),
    idempotencyRecords: await deleteOlderThan(idempotency, 'created_at', idempotencyCutoff),
  };
}
