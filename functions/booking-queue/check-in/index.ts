// A patient arrives at a branch and takes a queue ticket: for their booking (the booking becomes
// checked_in) or as a walk-in issued by staff. Numbering and ordering are serialised per queue by
// lockQueue, and the ticket, the booking move and their events commit together.
import type { FromSchema } from 'json-schema-to-ts';
import { route, created } from '../../shared/http';
import { conflict, forbidden, invalid, notFound } from '../../shared/domain-errors';
import { assertBranch, mayView } from '../../shared/access';
import type { Caller } from '../../shared/auth';
import type { Tx } from '../../shared/db';
import type { Booking, Branch, Service } from '../../shared/generated/prisma/client';
import { bookedLane, issueTicket, lockQueue, moveBooking, placeOf, ticketFacts, ticketView, type Lane } from '../domain';
import { branchDay } from '../calendar';
import { system } from '../system';
import { body, ticket } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

type Body = FromSchema<typeof body>;

interface Arrival {
  service: Service;
  lane: Lane;
  patientId: string | null;
  booking: Booking | null;
}

export const handle = route(
  {
    name: 'check-in', system, method: 'POST', path: '/api/queue/check-in',
    summary: 'A patient arrives and takes a queue ticket', auth: ['patient', 'staff'], body, idempotent: true,
    responses: { 201: { description: 'ticket issued', schema: ticket } },
    refuses: {
      'not-found': 'no such branch, service or booking (or not one the caller may see)',
      conflict: 'the booking is not for this branch, service or day, not confirmed, or already checked in',
      forbidden: 'a patient choosing a lane or asking for a walk-in ticket; staff of another branch',
      invalid: 'a walk-in needs a service; a booking names its own patient',
    },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx, emit) => {
      const now = new Date();
      const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
      if (!branch) throw notFound('branchId', 'no such branch');
      const day = branchDay(now, branch.timezone);
      const arrival = body.bookingId ? await bookedArrival(tx, body, caller, branch, now) : await walkIn(tx, body, caller);

      await lockQueue(tx, branch.id, arrival.service.id);
      if (arrival.booking) {
        const checkedIn = await moveBooking(tx, arrival.booking.id, 'confirmed', 'checked_in');
        if (!checkedIn) throw conflict('the booking is already checked in', 'bookingId');
        await emit('com.medlab.booking.status-changed', checkedIn);
      }
      const issued = await issueTicket(tx, {
        branchId: branch.id, service: arrival.service, day, lane: arrival.lane, patientId: arrival.patientId, bookingId: arrival.booking?.id ?? null, now,
      });
      const place = (await placeOf(tx, branch, arrival.service, issued, now))!;
      await emit('com.medlab.ticket.issued', { ...ticketFacts(issued), position: place.position, etaMinutes: place.etaMinutes });
      return created(ticketView(issued, place), `/api/queue/ticket?ticketId=${issued.id}`);
    }),
);

/** A booked patient: a confirmed booking of theirs at this branch, for today. Punctuality earns the booked lane. */
async function bookedArrival(tx: Tx, body: Body, caller: Caller, branch: Branch, now: Date): Promise<Arrival> {
  const booking = await tx.booking.findUnique({ where: { id: body.bookingId! }, include: { slot: { include: { service: true } } } });
  // Another patient's booking answers exactly as a missing one.
  if (!booking || !mayView(caller, { patientId: booking.patientId, branchId: booking.slot.branchId })) throw notFound('bookingId', 'no such booking');
  const { slot } = booking;
  if (caller.role === 'patient' && body.lane) throw forbidden("a patient's lane comes from their tier and their booking", 'lane');
  if (body.patientId) throw invalid('a booking names its patient; patientId is for walk-ins only', 'patientId');
  if (body.serviceId && body.serviceId !== slot.serviceId) throw conflict('the booking is for another service', 'serviceId');
  if (slot.branchId !== branch.id) throw conflict('the booking is at another branch', 'bookingId');
  if (branchDay(slot.startsAt, branch.timezone) !== branchDay(now, branch.timezone)) throw conflict('the booking is not for today', 'bookingId');
  if (booking.status === 'pending') throw conflict('the booking is not confirmed yet', 'bookingId');
  if (booking.status === 'checked_in') throw conflict('the booking is already checked in', 'bookingId');
  if (booking.status !== 'confirmed') throw conflict(`a ${booking.status} booking cannot check in`, 'bookingId');
  const lane = body.lane ?? bookedLane(slot.startsAt, now, caller.role === 'patient' ? caller.tier : undefined);
  return { service: slot.service, lane, patientId: booking.patientId, booking };
}

/** A walk-in: staff at the desk issue the ticket, for a named patient or an anonymous one. */
async function walkIn(tx: Tx, body: Body, caller: Caller): Promise<Arrival> {
  if (caller.role !== 'staff') throw forbidden('patients check in with a booking; walk-in tickets are issued by staff', 'bookingId');
  assertBranch(caller, body.branchId);
  if (!body.serviceId) throw invalid('a walk-in needs a service', 'serviceId');
  const service = await tx.service.findUnique({ where: { id: body.serviceId } });
  if (!service) throw notFound('serviceId', 'no such service');
  return { service, lane: body.lane ?? 'walkin', patientId: body.patientId ?? null, booking: null };
}
