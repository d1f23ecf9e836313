// A patient takes one place in a slot. The place is taken by one conditional update inside the
// transaction that also stores the booking and its events, so capacity holds under any race, and a retry
// carrying the same Idempotency-Key returns the booking made the first time.
import { route, created, ok, cors } from '../../shared/http';
import { badRequest, conflict, notFound, forbidden } from '../../shared/errors';
import { assertBranchAccess } from '../../shared/auth';
import { isUniqueViolation } from '../../shared/db';
import { SYSTEM, takePlace, bookPlace, bookingView } from '../domain';
import { body, booking } from './schema';

export { cors };

export const handle = route(
  {
    name: 'book-slot', system: SYSTEM, method: 'POST', path: '/api/bookings',
    summary: 'Book a place in a slot', auth: ['patient', 'staff', 'service'], body, idempotencyHeader: true,
    responses: { 201: { description: 'booked', schema: booking }, 200: { description: 'the same request was already booked', schema: booking } },
  },
  async ({ body, caller, headers, db, transaction }) => {
    const patientId = caller!.role === 'patient' ? caller!.patientId! : body.patientId;
    if (!patientId) throw badRequest('staff and services must say which patient to book', 'body/patientId', 'is required');
    if (caller!.role === 'patient' && body.patientId && body.patientId !== caller!.patientId) {
      throw forbidden('patients book for themselves only');
    }
    const idempotencyKey = headers['idempotency-key']?.slice(0, 200);

    const replay = async () => {
      if (!idempotencyKey) return undefined;
      const earlier = await db.booking.findUnique({ where: { patientId_idempotencyKey: { patientId, idempotencyKey } }, include: { slot: true } });
      if (!earlier) return undefined;
      if (earlier.slotId !== body.slotId) throw conflict('this Idempotency-Key was used for another slot', 'header/idempotency-key');
      return ok(bookingView(earlier, earlier.slot));
    };
    const earlier = await replay();
    if (earlier) return earlier;

    try {
      return await transaction(async (tx, emit) => {
        const slot = await tx.slot.findUnique({ where: { id: body.slotId }, include: { service: true } });
        if (!slot) throw notFound('body/slotId', 'no such slot');
        if (caller!.role === 'staff') assertBranchAccess(caller!, slot.branchId);

        const place = await takePlace(tx, slot.id);
        if (place === 'full') throw conflict('the slot is full', 'body/slotId');
        if (place === 'closed') throw conflict('the slot is closed for booking', 'body/slotId');
        if (place === 'past') throw conflict('the slot has already started', 'body/slotId');
        if (place === 'missing') throw notFound('body/slotId', 'no such slot');

        const booking = await bookPlace(tx, emit, place, {
          patientId, idempotencyKey, requiresConfirmation: slot.service.requiresConfirmation,
          channel: body.channel ?? (caller!.role === 'patient' ? 'portal' : 'front-desk'),
        });
        return created(bookingView(booking, place), `/api/bookings?bookingId=${booking.id}`);
      });
    } catch (err) {
      // Two retries of one request raced: the loser finds the winner's booking.
      if (idempotencyKey && isUniqueViolation(err)) {
        const winner = await replay();
        if (winner) return winner;
      }
      throw err;
    }
  },
);
