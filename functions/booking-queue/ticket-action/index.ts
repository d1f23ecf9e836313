// Staff at a counter settle a called ticket: served, skipped (the patient did not come up; the ticket
// waits aside), recalled, or closed as a no-show. Each move is checked against the ticket's status under
// the queue lock, and its event commits with it.
import type { FromSchema } from 'json-schema-to-ts';
import { route, ok } from '../../shared/http';
import { invalid, conflict, notFound } from '../../shared/domain-errors';
import { mayView } from '../../shared/access';
import type { Tx } from '../../shared/db';
import { system, type BookingQueueEmit as Emit } from '../system';
import type { Ticket } from '../../shared/generated/prisma/client';
import { assertAction, atCounter, calledFacts, lockTicket, moveBooking, servedFacts, ticketFacts, ticketView, type TicketAction } from '../domain';
import { body, ticket } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

type Body = FromSchema<typeof body>;

export const handle = route(
  {
    name: 'ticket-action', system, method: 'POST', path: '/api/queue/ticket-action',
    summary: 'Serve, skip, recall or no-show a queue ticket', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the ticket after the action', schema: ticket } },
    refuses: { 'not-found': 'no such ticket at the caller\'s branch', conflict: 'the ticket\'s status does not allow the action, or the counter is busy', invalid: 'a recall of a skipped ticket needs a counter' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const ticket = await lockTicket(tx, body.ticketId);
      if (!ticket || !mayView(caller, ticket)) throw notFound('ticketId', 'no such ticket');
      assertAction(ticket.status, body.action);
      return ok(ticketView(await actions[body.action](tx, emit, ticket, body, new Date())));
    }),
);

type Action = (tx: Tx, emit: Emit, t: Ticket, body: Body, now: Date) => Promise<Ticket>;

const actions: Record<TicketAction, Action> = {
  async serve(tx, emit, t, _body, now) {
    const served = await tx.ticket.update({ where: { id: t.id }, data: { status: 'served', servedAt: now } });
    await emit('com.medlab.ticket.served', servedFacts(served));
    return served;
  },

  async skip(tx, emit, t) {
    const skipped = await tx.ticket.update({ where: { id: t.id }, data: { status: 'skipped' } });
    await emit('com.medlab.ticket.skipped', { ...ticketFacts(skipped), counter: skipped.counter });
    return skipped;
  },

  async recall(tx, emit, t, body, now) {
    const counter = body.counter ?? (t.status === 'called' ? t.counter : null);
    if (!counter) throw invalid('say which counter recalls a skipped ticket', 'counter');
    // One patient per counter: the counter must finish with whoever it is attending to first.
    const busy = await atCounter(tx, t.branchId, t.serviceId, t.day, counter);
    if (busy && busy.id !== t.id) throw conflict(`counter ${counter} is attending to ${busy.number}; serve or skip it first`, 'counter');
    const called = await tx.ticket.update({ where: { id: t.id }, data: { status: 'called', counter, calledAt: now } });
    await emit('com.medlab.ticket.called', calledFacts(called, true));
    return called;
  },

  async 'no-show'(tx, emit, t) {
    const closed = await tx.ticket.update({ where: { id: t.id }, data: { status: 'no_show' } });
    await emit('com.medlab.ticket.no-show', ticketFacts(closed));
    // A booked patient who checked in and then never came up is a no-show for their booking as well.
    const booking = t.bookingId && (await moveBooking(tx, t.bookingId, 'checked_in', 'no_show'));
    if (booking) await emit('com.medlab.booking.status-changed', booking);
    return closed;
  },
};
