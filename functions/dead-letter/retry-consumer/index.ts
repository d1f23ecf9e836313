// Automatic retries (dead-letter-retries): the cron queues each letter whose failure can heal when its next
// retry is due, and this delivers its event again to the consumer that failed. Delivered: resolved. Refused
// for good (4xx): parked at once. Still failing: the next retry as the source's policy says, or, its retries
// spent, parked with an alert. A retry-due whose retry was already made (a duplicate, a stale one) does
// nothing: a retry that fails the same way counts one attempt and never loops.
//
// The letter's row stays locked while its consumer answers. consume() runs this in a transaction anyway, and
// the lock makes a duplicate event wait and then find its retry made; nothing is claimed that would need
// recovering if this pod died mid-delivery (the transaction rolls back, Kafka delivers the event again).
// The price is a database connection held for one delivery, bounded by its short timeout (redeliver.ts:
// 10 s by default, at most 20 s, inside the transaction's 30 s).
import { consume } from '../../shared/consume';
import { warmBeforeReady } from '../../shared/lifecycle';
import { system, type DeadLetterEmit } from '../system';
import { topics } from '../events';
import type { Tx } from '../../shared/db';
import { letters, recordAttempt, dispositionAfterFailure, healable } from '../letters';
import { assertPolicy, retryPolicyFor } from '../policy';
import { redeliver, redeliveryTimeoutMs } from '../redeliver';
import { raiseAlert } from '../alerts';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'dead-letter-retry-consumer';
// Without a readable policy, or with a bad timeout setting, the function stops at start-up, naming it.
assertPolicy();
warmBeforeReady(() => void redeliveryTimeoutMs());

interface Letter {
  id: string;
  status: string;
  retries: number;
  errorDest: string;
  event: unknown;
  truncated: boolean;
  kafkaSource: string | null;
  fingerprint: string;
  eventType: string;
  consumer: string | null;
  system: string;
}

export const handle = consume(
  { name: NAME, system, topics: [topics.retries], summary: 'Deliver dead letters whose failure can heal again, with backoff, until they succeed or are parked' },
  {
    'com.medlab.dead-letter.retry-due': async ({ letterId, retry }, { tx, emit, log }) => {
      const [letter] = await tx.$queryRaw<Letter[]>`
        SELECT id::text AS id, status::text AS status, retries, error_dest AS "errorDest", event, truncated, kafka_source AS "kafkaSource",
          fingerprint, event_type AS "eventType", consumer, system
        FROM ${letters} WHERE id = ${letterId}::uuid FOR UPDATE`;
      // Only the retry the letter waits for: not one already made, nor one of a letter resolved, parked or
      // discarded meanwhile.
      if (!letter || !['retrying', 'open'].includes(letter.status) || letter.retries + 1 !== retry) {
        return { outcome: 'stale', status: letter?.status ?? null, retries: letter?.retries ?? null };
      }
      const answer = await redeliver(letter);
      if (answer.outcome === 'refused') {
        // Nothing was sent, and nothing ever will be automatically (cut short, nowhere to go): an operator decides.
        await tx.$executeRaw`
          UPDATE ${letters} SET status = 'parked', status_reason = ${`cannot retry: ${answer.reason}`}, status_by = ${NAME}, status_at = now(), next_retry_at = NULL
          WHERE id = ${letter.id}::uuid`;
        return { outcome: 'parked', reason: answer.reason };
      }
      await recordAttempt(tx, letter.id, { kind: 'auto-retry', outcome: answer.outcome, by: NAME, code: answer.code, reason: answer.reason });
      if (answer.outcome === 'delivered') {
        await tx.$executeRaw`
          UPDATE ${letters} SET status = 'resolved', resolution = 'auto-retry', retries = ${retry},
            status_reason = ${`delivered on automatic retry ${retry}`}, status_by = ${NAME}, status_at = now(), next_retry_at = NULL
          WHERE id = ${letter.id}::uuid`;
        log.info({ deadLetter: { id: letter.id, retry } }, 'dead letter delivered on automatic retry');
        return { outcome: 'delivered', code: answer.code };
      }

      const next = dispositionAfterFailure(letter.kafkaSource, answer.code, retry);
      const { maxAttempts } = retryPolicyFor(letter.kafkaSource);
      // The consumer's own words stay in the attempt (they may quote the event); the status says what happened.
      const reason = next.reason ?? `automatic retry ${retry} of ${maxAttempts} failed (${answer.code === null ? 'no answer' : `HTTP ${answer.code}`})`;
      await tx.$executeRaw`
        UPDATE ${letters} SET status = ${next.status}::dead_letter.letter_status, retries = ${retry}, attempts = attempts + 1,
          next_retry_at = ${next.nextRetryAt}, status_reason = ${reason}, status_by = ${NAME}, status_at = now()
        WHERE id = ${letter.id}::uuid`;
      log.warn({ deadLetter: { id: letter.id, retry, code: answer.code, status: next.status } }, 'automatic retry failed');
      if (next.status === 'parked' && healable(answer.code)) await retriesExhausted(tx, emit, letter);
      return { outcome: 'failed', code: answer.code, status: next.status, nextRetryAt: next.nextRetryAt?.toISOString() ?? null };
    },
  },
);

/** Retries spent on a failure that could have healed: operators hear of it, once per group per repeatMinutes. */
async function retriesExhausted(tx: Tx, emit: DeadLetterEmit, letter: Letter): Promise<void> {
  const [{ parked }] = await tx.$queryRaw<Array<{ parked: number }>>`
    SELECT count(*)::int AS parked FROM ${letters} WHERE fingerprint = ${letter.fingerprint} AND status = 'parked'`;
  await raiseAlert(tx, emit, {
    key: `retries-exhausted:${letter.fingerprint}`,
    kind: 'retries-exhausted',
    severity: 'warning',
    summary: `Automatic retries exhausted: ${letter.eventType} at ${letter.consumer ?? 'its consumer'} (${letter.system}) still fails; ${parked} letter(s) of this group parked`,
    system: letter.system,
    fingerprint: letter.fingerprint || undefined,
    letterId: letter.id,
    count: parked,
  });
}
