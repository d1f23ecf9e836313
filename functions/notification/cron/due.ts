// Every minute: notifications whose time came (a scheduled sendAt, the end of quiet hours, a results window
// closing) are dispatched (intake/dispatch.ts), and deliveries whose retry is due are handed to the sender
// again. Each batch claims its rows FOR UPDATE SKIP LOCKED (notifications) or by clearing next_attempt_at in
// the same statement that selects them (deliveries), and its delivery-due events commit with it: two
// overlapping runs never dispatch or re-emit the same row.
import { Prisma, tableOf } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { system } from '../system';
import { dispatch, type Dispatched } from '../intake/dispatch';

const notifications = tableOf(system, 'notification');
const deliveries = tableOf(system, 'delivery');
const BATCH = 100;
/** 20 batches (2,000 rows) a minute at most: a larger backlog goes on in the next minute's run. */
const MAX_BATCHES = 20;

export async function dispatchDue(source: string, now: Date): Promise<Record<Dispatched['status'], number>> {
  const counted: Record<Dispatched['status'], number> = { dispatched: 0, unreachable: 0, pending: 0, cancelled: 0 };
  await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
    const due = await tx.$queryRaw<Array<{ id: string }>>`
      SELECT id::text AS id FROM ${notifications}
      WHERE status = 'pending' AND send_at <= ${now}::timestamptz
      ORDER BY send_at LIMIT ${BATCH}
      FOR UPDATE SKIP LOCKED`;
    if (!due.length) return 0;
    const rows = await tx.notification.findMany({ where: { id: { in: due.map((d) => d.id) } }, orderBy: { sendAt: 'asc' } });
    for (const row of rows) counted[(await dispatch(tx, emit, row, now)).status]++;
    return due.length;
  }));
  return counted;
}

/** Deliveries queued for a retry that is due, with no live sender claim on them: delivery-due again, once. */
export async function emitDueRetries(source: string, now: Date, claimStaleSeconds: number): Promise<number> {
  let emitted = 0;
  emitted += await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
    const stale = new Date(now.getTime() - claimStaleSeconds * 1000);
    const due = await tx.$queryRaw<Array<{ id: string; notification_id: string; channel: string; attempts: number }>>(Prisma.sql`
      WITH due AS (
        SELECT id FROM ${deliveries}
        WHERE status = 'queued' AND next_attempt_at <= ${now}::timestamptz
          AND (claimed_at IS NULL OR claimed_at < ${stale}::timestamptz)
        ORDER BY next_attempt_at LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      UPDATE ${deliveries} d SET next_attempt_at = NULL
      FROM due WHERE d.id = due.id
      RETURNING d.id::text AS id, d.notification_id::text AS notification_id, d.channel, d.attempts`);
    for (const d of due) {
      await emit('com.medlab.notification.delivery-due', { deliveryId: d.id, notificationId: d.notification_id, channel: d.channel as 'sms', attempt: d.attempts + 1 });
    }
    return due.length;
  }));
  return emitted;
}
