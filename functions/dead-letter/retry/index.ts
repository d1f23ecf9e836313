// An operator retries dead letters (one, several, or a group's newest): each open or parked letter's event is
// delivered again to the consumer that failed, as its KafkaSource would. Delivered: resolved, by whom. Not
// delivered: one more attempt on its record and the letter stays as it was, except that an open letter the
// consumer refuses for good (4xx) is parked. Letters of one record key go oldest first, as on their partition.
//
// Each letter's row stays locked while its consumer answers (short timeout, redeliver.ts), so an automatic
// retry of the same letter waits for this one and then finds it settled; one already in flight is skipped.
import { route, ok } from '../../shared/http';
import { invalid } from '../../shared/domain-errors';
import { warmBeforeReady } from '../../shared/lifecycle';
import type { Tx } from '../../shared/db';
import { system } from '../system';
import { actor, healable, letters, recordAttempt } from '../letters';
import { redeliver, redeliveryTimeoutMs } from '../redeliver';
import { body, view, MAX_LETTERS } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

warmBeforeReady(() => void redeliveryTimeoutMs());

/** Letters an operator may retry: waiting for an automatic retry, or parked for a person. */
const RETRYABLE = ['open', 'parked'];
/** Record keys delivered side by side: each lane waits on one consumer's answer and holds one connection. */
const LANES = 5;
/**
 * Every function's request ends after 30 s (knative/components/function): a delivery starts only if its
 * timeout ends before this, and letters not reached by then are skipped, to be retried in another call.
 */
const CALL_BUDGET_MS = 27_000;

interface Chosen { id: string; status: string; key: string | null; receivedAt: Date }
interface Result { letterId: string; outcome: 'delivered' | 'failed' | 'skipped'; code: number | null; reason: string | null }

const skipped = (letterId: string, reason: string): Result => ({ letterId, outcome: 'skipped', code: null, reason });

export const handle = route(
  {
    name: 'dead-letter-retry', system, method: 'POST', path: '/api/dead-letters/retry',
    summary: 'Deliver dead letters again to the consumer that failed, as its KafkaSource would', auth: ['staff'], grant: 'operator', body,
    responses: { 200: { description: 'what became of each letter: delivered, failed (with the consumer\'s answer) or skipped (with why)', schema: view } },
    refuses: { invalid: 'give letterIds or group, one of them' },
  },
  async ({ body, caller, db, transaction }) => {
    // Exactly one of the two.
    if (!body.letterIds === !body.group) throw invalid('give letterIds or group, one of them', 'letterIds');
    const by = actor(caller);
    const chosen = body.letterIds
      ? await db.$queryRaw<Chosen[]>`
          SELECT id::text AS id, status::text AS status, record_key AS key, received_at AS "receivedAt" FROM ${letters} WHERE id = ANY(${body.letterIds}::uuid[])`
      : await db.$queryRaw<Chosen[]>`
          SELECT id::text AS id, status::text AS status, record_key AS key, received_at AS "receivedAt" FROM ${letters}
          WHERE fingerprint = ${body.group} AND status IN ('open', 'parked') ORDER BY received_at DESC, id DESC LIMIT ${MAX_LETTERS}`;
    const order = body.letterIds ?? chosen.map((l) => l.id);
    const results = new Map<string, Result>();
    const found = new Map(chosen.map((l) => [l.id, l]));
    for (const id of order) {
      const l = found.get(id);
      if (!l) results.set(id, skipped(id, 'no such letter'));
      else if (!RETRYABLE.includes(l.status)) results.set(id, skipped(id, `it is ${l.status}: only open or parked letters are retried`));
    }
    const lanes = lanesByKey(chosen.filter((l) => !results.has(l.id)));
    const lastStart = Date.now() + CALL_BUDGET_MS - redeliveryTimeoutMs();
    await inParallel(lanes, LANES, async (lane) => {
      for (const l of lane) {
        results.set(l.id, Date.now() > lastStart
          ? skipped(l.id, 'not reached before this call ran out of time: retry it again')
          : await transaction((tx) => retryOne(tx, l.id, by)));
      }
    });
    const answered = order.map((id) => results.get(id)!);
    const count = (o: Result['outcome']) => answered.filter((r) => r.outcome === o).length;
    return ok({ delivered: count('delivered'), failed: count('failed'), skipped: count('skipped'), results: answered });
  },
);

async function retryOne(tx: Tx, id: string, by: string): Promise<Result> {
  const [letter] = await tx.$queryRaw<Array<{ status: string; errorDest: string; event: unknown; truncated: boolean }>>`
    SELECT status::text AS status, error_dest AS "errorDest", event, truncated FROM ${letters} WHERE id = ${id}::uuid FOR UPDATE SKIP LOCKED`;
  if (!letter) return skipped(id, 'a retry of it is in flight');
  if (!RETRYABLE.includes(letter.status)) return skipped(id, `it is ${letter.status}: only open or parked letters are retried`);
  const answer = await redeliver(letter);
  if (answer.outcome === 'refused') return skipped(id, answer.reason);
  await recordAttempt(tx, id, { kind: 'retry', outcome: answer.outcome, by, code: answer.code, reason: answer.reason });
  if (answer.outcome === 'delivered') {
    await tx.$executeRaw`
      UPDATE ${letters} SET status = 'resolved', resolution = 'retry', status_reason = 'delivered again by an operator',
        status_by = ${by}, status_at = now(), next_retry_at = NULL
      WHERE id = ${id}::uuid`;
  } else if (letter.status === 'open' && !healable(answer.code)) {
    // Waiting for an automatic retry is pointless now: the consumer refuses it for good.
    await tx.$executeRaw`
      UPDATE ${letters} SET attempts = attempts + 1, status = 'parked', next_retry_at = NULL,
        status_reason = ${`cannot heal: the consumer refused it (HTTP ${answer.code})`}, status_by = ${by}, status_at = now()
      WHERE id = ${id}::uuid`;
  } else {
    await tx.$executeRaw`UPDATE ${letters} SET attempts = attempts + 1 WHERE id = ${id}::uuid`;
  }
  return { letterId: id, outcome: answer.outcome, code: answer.code, reason: answer.reason };
}

/** One lane per record key, oldest first (a key's events in the order they had on their partition); no key, a lane each. */
function lanesByKey(chosen: Chosen[]): Chosen[][] {
  const lanes = new Map<string, Chosen[]>();
  for (const l of [...chosen].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime())) {
    const lane = l.key === null ? `letter:${l.id}` : `key:${l.key}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), l]);
  }
  return [...lanes.values()];
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}
