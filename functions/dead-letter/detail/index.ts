// One dead letter as an operator investigates it: the letter, its event, what the consumer answered, and its
// history. Event data and the answer are masked unless the operator asks for them unmasked and holds the phi
// grant; such a view is recorded (who, when, which letter) in the transaction that reads it, so none goes
// unrecorded.
import { route, ok } from '../../shared/http';
import { forbidden, notFound } from '../../shared/domain-errors';
import { letterSummary, maskedEvent, maskedReason, recordUnmaskedViews, seesPhi } from '../letters';
import { redriveHistory } from '../redrive-task';
import { system } from '../system';
import { query, detail } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'dead-letter-detail', system, method: 'GET', path: '/api/dead-letters/letter',
    summary: 'One dead letter: its event, the consumer\'s answer and its history', auth: ['staff'], grant: 'operator', query,
    responses: { 200: { description: 'the letter', schema: detail } },
    refuses: { 'not-found': 'no such letter', forbidden: 'unmasked=true from an operator without the phi grant' },
  },
  async ({ query, caller, transaction }) => {
    if (query.unmasked && !seesPhi(caller)) throw forbidden('event data unmasked is for operators holding the phi grant', 'unmasked');
    return transaction(async (tx) => {
      const letter = await tx.deadLetter.findUnique({ where: { id: query.id }, include: { history: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } } });
      if (!letter) throw notFound('id', 'no such dead letter');
      if (query.unmasked) await recordUnmaskedViews(tx, caller, [letter.id]);
      const phi = seesPhi(caller);
      // Redrives are recorded by their tasks, a batch at a time, not as a row of history each.
      const history = [...letter.history, ...(await redriveHistory(tx, letter.id, letter.topic))].sort((a, b) => a.at.getTime() - b.at.getTime());
      return ok({
        letter: letterSummary(letter, phi),
        event: query.unmasked ? letter.event : maskedEvent(letter.event),
        errorData: answerOf(letter.errorData, !query.unmasked),
        masked: !query.unmasked,
        attempts: history.map((a) => ({ at: a.at.toISOString(), kind: a.kind, outcome: a.outcome, by: a.by, code: a.code, reason: phi ? a.reason : maskedReason(a.reason) })),
      });
    });
  },
);

/**
 * The consumer's answer (knativeerrordata, base64), decoded. Masked, a problem keeps its type, title and status,
 * its detail and each invalid param's reason lose the values they quote (as reasons do), and anything else is
 * hidden as event data is.
 */
function answerOf(errorData: string | null, masked: boolean): unknown {
  if (errorData === null) return null;
  const decoded = Buffer.from(errorData, 'base64').toString('utf8');
  let answer: unknown;
  try {
    answer = JSON.parse(decoded);
  } catch {
    return masked ? maskedReason(decoded) : decoded;
  }
  if (!masked) return answer;
  const hidden = (value: unknown) => (maskedEvent({ data: value }) as { data: unknown }).data;
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return hidden(answer);
  const { type, title, status, detail, 'invalid-params': params, ...rest } = answer as Record<string, unknown>;
  const unquoted = (v: unknown) => (typeof v === 'string' ? maskedReason(v) : hidden(v));
  return {
    ...(hidden(rest) as object),
    ...(type !== undefined ? { type: unquoted(type) } : {}),
    ...(title !== undefined ? { title: unquoted(title) } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    ...(detail !== undefined ? { detail: unquoted(detail) } : {}),
    ...(Array.isArray(params) ? { 'invalid-params': params.map((p) => ({ name: unquoted(p?.name), reason: unquoted(p?.reason) })) } : {}),
  };
}
