// A patient takes one place in a slot. The place is taken by one conditional update inside the transaction
// that also stores the booking and its events, so capacity holds under any race; a patient holds at most one
// place per slot and a few per branch and day (roomIn); a retry with the same Idempotency-Key gets the first
// answer again.
import { route, created } from '../../shared/http';
import { forbidden, invalid, conflict } from '../../shared/domain-errors';
import { assertBranch } from '../../shared/access';
import { isUniqueViolation } from '../../shared/db';
import { bookPlace, bookingView } from '../domain';
import { placeIn, roomIn } from '../booking-rules';
import { system } from '../system';
import { body, booking } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'book-slot', system, method: 'POST', path: '/api/bookings',
    summary: 'Book a place in a slot', auth: ['patient', 'staff', 'service'], body, idempotent: true,
    responses: { 201: { description: 'booked', schema: booking } },
    refuses: {
      'not-found': 'no such slot',
      conflict: 'the slot is full, closed or has started; or the patient already holds a place in it, or as many places at the branch that day as one patient may',
      forbidden: 'a patient booking for someone else; staff booking at another branch',
      invalid: 'staff and services must name the patient',
    },
  },
  async ({ body, caller, transaction }) => {
    const patientId = caller.role === 'patient' ? caller.patientId : body.patientId;
    if (!patientId) throw invalid('staff and services must say which patient to book', 'patientId');
    if (caller.role === 'patient' && body.patientId && body.patientId !== caller.patientId) throw forbidden('patients book for themselves only', 'patientId');
    try {
      return await transaction(async (tx, emit) => {
        const slot = await roomIn(tx, patientId, body.slotId);
        if (caller.role === 'staff') assertBranch(caller, slot.branchId, 'slotId');
        const place = await placeIn(tx, slot.id);
        const booking = await bookPlace(tx, emit, place, {
          patientId, requiresConfirmation: slot.requiresConfirmation,
          channel: body.channel ?? (caller.role === 'patient' ? 'portal' : 'front-desk'),
        });
        return created(bookingView(booking, place), `/api/bookings?bookingId=${booking.id}`);
      });
    } catch (err) {
      // The database's own guard, should two requests ever pass roomIn together.
      if (isUniqueViolation(err, 'booking_one_active_per_patient_slot')) throw conflict('the patient already holds a place in this slot', 'slotId');
      throw err;
    }
  },
);
