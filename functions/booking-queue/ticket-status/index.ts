// Where a ticket stands: a patient watches their own ticket move up the line (position and ETA are
// worked out live from the waiting line), staff look at any ticket of their branch.
import { route, ok, cors } from '../../shared/http';
import { notFound } from '../../shared/errors';
import { assertAccess } from '../../shared/auth';
import { SYSTEM, placeOf, ticketView } from '../domain';
import { query, ticket } from './schema';

export { cors };

export const handle = route(
  {
    name: 'ticket-status', system: SYSTEM, method: 'GET', path: '/api/queue/ticket',
    summary: 'A queue ticket with its live position and ETA', auth: ['patient', 'staff', 'service'], query,
    responses: { 200: { description: 'the ticket', schema: ticket } },
  },
  async ({ query, caller, transaction }) =>
    transaction(async (tx) => {
      const found = await tx.ticket.findUnique({ where: { id: query.ticketId }, include: { branch: true, service: true } });
      if (!found) throw notFound('query/ticketId', 'no such ticket');
      assertAccess(caller!, found);
      const { branch, service, ...t } = found;
      return ok(ticketView(t, await placeOf(tx, branch, service, t, new Date())));
    }),
);
