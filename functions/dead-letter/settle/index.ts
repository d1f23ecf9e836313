// Operators settle letters by hand, a few by id or a whole group at once: park one that will not heal by
// itself (no more automatic retries), discard one that needs no delivery, or reopen a parked or discarded
// one. Each change records why, who and when; a letter already resolved, or already where the action would
// put it, is left alone, and the answer says which letters changed.
import { route, ok } from '../../shared/http';
import { invalid } from '../../shared/domain-errors';
import { Prisma } from '../../shared/db';
import type { DeadLetterStatus } from '../../shared/generated/prisma/client';
import { actor, letters, statusIn, UNRESOLVED } from '../letters';
import { system } from '../system';
import { body, settled } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

/** Where each action takes a letter, and from where. A retrying letter may be parked or discarded: the
 *  operator's word wins, and its retry, when its turn comes, finds it no longer retrying. */
const MOVES: Record<'park' | 'discard' | 'reopen', { to: DeadLetterStatus; from: DeadLetterStatus[] }> = {
  park: { to: 'parked', from: ['open', 'retrying'] },
  discard: { to: 'discarded', from: UNRESOLVED },
  reopen: { to: 'open', from: ['parked', 'discarded'] },
};

export const handle = route(
  {
    name: 'dead-letter-settle', system, method: 'POST', path: '/api/dead-letters/settle',
    summary: 'Park, discard or reopen dead letters, by id or by group', auth: ['staff'], grant: 'operator', body,
    responses: { 200: { description: 'how many letters changed, and which', schema: settled } },
    refuses: { invalid: 'park or discard without a reason; neither letterIds nor group, or both' },
  },
  async ({ body, caller, db }) => {
    if (body.action !== 'reopen' && !body.reason) throw invalid(`say why: a reason is required to ${body.action} letters`, 'reason');
    if (!body.letterIds === !body.group) {
      throw body.group ? invalid('give letterIds or a group, not both', 'group') : invalid('give letterIds or a group', 'letterIds');
    }
    const move = MOVES[body.action];
    const chosen = body.letterIds ? Prisma.sql`id = ANY(${body.letterIds}::uuid[])` : Prisma.sql`fingerprint = ${body.group}`;
    // No automatic retry is planned after any of these: a reopened letter waits for an operator's retry or redrive.
    const changed = await db.$queryRaw<Array<{ id: string }>>`
      WITH moved AS (
        UPDATE ${letters} SET status = ${move.to}::dead_letter.letter_status, status_reason = ${body.reason ?? null},
          status_by = ${actor(caller)}, status_at = now(), next_retry_at = NULL
        WHERE ${chosen} AND ${statusIn(move.from)}
        RETURNING id, received_at
      )
      SELECT id::text AS id FROM moved ORDER BY received_at DESC, id DESC`;
    return ok({ action: body.action, changed: changed.length, letterIds: changed.map((l) => l.id) });
  },
);
