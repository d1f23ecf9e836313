// A counter calls the next patient. Whoever the counter was attending to is done, so their ticket is
// served first; then the head of the waiting line (lane priority, then arrival) is called, and the next
// few waiting patients hear that they moved up. Bookings are left alone: completing one is booking-status's job.
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { assertBranch } from '../../shared/access';
import { branchDay } from '../calendar';
import { system } from '../system';
import {
  NOTIFY_POSITIONS, atCounter, calledFacts, lockQueue, placesInLine, servedFacts, ticketFacts, ticketView, waitingLine,
} from '../domain';
import { body, callNextResult } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'call-next', system, method: 'POST', path: '/api/queue/call-next',
    summary: 'Call the next waiting patient to a counter', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'who was called (null when nobody waits) and who was served', schema: callNextResult } },
    refuses: { 'not-found': 'no such branch or service', forbidden: 'staff of another branch' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      assertBranch(caller, body.branchId);
      const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
      if (!branch) throw notFound('branchId', 'no such branch');
      const service = await tx.service.findUnique({ where: { id: body.serviceId } });
      if (!service) throw notFound('serviceId', 'no such service');
      await lockQueue(tx, branch.id, service.id);
      const now = new Date();
      const day = branchDay(now, branch.timezone);

      const current = await atCounter(tx, branch.id, service.id, day, body.counter);
      const served = current && (await tx.ticket.update({ where: { id: current.id }, data: { status: 'served', servedAt: now } }));
      if (served) await emit('com.medlab.ticket.served', servedFacts(served));

      const [next] = await waitingLine(tx, branch, service.id, day);
      const called = next && (await tx.ticket.update({ where: { id: next.id }, data: { status: 'called', counter: body.counter, calledAt: now } }));
      if (called) await emit('com.medlab.ticket.called', calledFacts(called, false));

      const line = await placesInLine(tx, branch, service, day, now);
      if (called) {
        for (const { ticket, position, etaMinutes } of line.slice(0, NOTIFY_POSITIONS)) {
          await emit('com.medlab.queue.position-changed', { ...ticketFacts(ticket), position, etaMinutes });
        }
      }
      return ok({ called: called ? ticketView(called) : null, served: served ? ticketView(served) : null, waiting: line.length });
    }),
);
