// Where a ticket stands: a patient watches their own ticket move up the line (position and ETA are
// worked out live from the waiting line), staff look at any ticket of their branch.
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { mayView } from '../../shared/access';
import { placeOf, ticketView } from '../domain';
import { system } from '../system';
import { query, ticket } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'ticket-status', system, method: 'GET', path: '/api/queue/ticket',
    summary: 'A queue ticket with its live position and ETA', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the ticket', schema: ticket } },
    refuses: { 'not-found': 'no such ticket (or not one the caller may see)' },
  },
  async ({ query, caller, transaction }) =>
    transaction(async (tx) => {
      const found = await tx.ticket.findUnique({ where: { id: query.ticketId }, include: { branch: true, service: true } });
      // Another patient's ticket answers exactly as a missing one: the caller learns nothing.
      if (!found || !mayView(caller, found)) throw notFound('ticketId', 'no such ticket');
      const { branch, service, ...t } = found;
      return ok(ticketView(t, await placeOf(tx, branch, service, t, new Date())));
    }),
);
