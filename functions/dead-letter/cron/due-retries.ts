// Due automatic retries, handed to the retry consumer: each open letter whose next retry is due becomes
// retrying and its retry-due goes out through the outbox, in the same transaction, in batches that skip
// letters another run (or a retry in flight) holds. A letter left retrying for long (its retry-due was itself
// dead-lettered, or the consumer was down) is queued again: a duplicate retry-due does nothing.
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { letters } from '../letters';
import { system } from '../system';

const BATCH = 500;
/** 20 batches (10,000 letters) a minute at most: a larger backlog goes on in the next minute's run. */
const MAX_BATCHES = 20;
/**
 * A retry-due not taken within this long is taken as lost and sent again. The retry consumer takes one within
 * seconds when it runs (KEDA wakes it within 30 s); a quarter of an hour means it could not.
 */
export const REQUEUE_AFTER_MINUTES = 15;

export async function queueDueRetries(source: string, by: string): Promise<{ queued: number }> {
  let queued = 0;
  queued += await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
    const due = await tx.$queryRaw<Array<{ id: string; retries: number }>>`
      WITH due AS (
        SELECT id FROM ${letters}
        WHERE next_retry_at <= now()
          AND (status = 'open' OR (status = 'retrying' AND status_at <= now() - make_interval(mins => ${REQUEUE_AFTER_MINUTES})))
        ORDER BY next_retry_at
        LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      UPDATE ${letters} l SET status = 'retrying', status_at = now(), status_by = ${by}
      FROM due WHERE l.id = due.id
      RETURNING l.id::text AS id, l.retries`;
    for (const letter of due) await emit('com.medlab.dead-letter.retry-due', { letterId: letter.id, retry: letter.retries + 1 });
    return due.length;
  }));
  return { queued };
}
