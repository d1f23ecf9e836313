// The booking queue's answers and later news about package bookings (booking-events). confirmed / pending /
// rejected find the booking by requestId (our id); cancelled, rescheduled and status-changed by the queue's
// booking id. booking-events carries every booking of the queue: one that is not ours is answered 200 and
// ignored. A status only moves forward (bookings.ts moves()), so a late or repeated event changes nothing.
// The patient hears of a confirmation or a rejection through notification-requests, in the same transaction.
import { consume, type ConsumeContext } from '../../shared/consume';
import type { EventData } from '../../shared/system';
import type { PackageBooking, PackageBookingStatus } from '../../shared/generated/prisma/client';
import { bookingNotice, isTerminal, lockBooking, moves } from '../bookings';
import { events, topics } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

type Ctx = ConsumeContext<typeof events>;
type Placed = EventData<typeof events, 'com.medlab.booking.confirmed'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Why we give a place back ourselves: the slot the portal sent is of another service than the package's. */
const WRONG_SERVICE = 'slot-of-another-service';

const ignored = { ignored: 'not a package booking' } as const;
const ignore = async () => ({ ignored: 'not about package bookings' });

/** Our booking a request answer is about (requestId = our id, for the same patient), locked. */
async function answered(tx: Ctx['tx'], requestId: string, patientId: string): Promise<PackageBooking | undefined> {
  // Other systems' requestIds are not uuids: they are not ours, and must not reach a uuid column.
  if (!UUID.test(requestId)) return undefined;
  const booking = await lockBooking(tx, { id: requestId });
  return booking && booking.patientId === patientId ? booking : undefined;
}

/** The queue placed our booking (confirmed, or pending staff's confirmation). */
async function placed(e: Placed, status: 'confirmed' | 'pending', ctx: Ctx) {
  const booking = e.requestId ? await answered(ctx.tx, e.requestId, e.patientId) : undefined;
  if (!booking) return ignored;
  if (booking.queueBookingId && booking.queueBookingId !== e.bookingId) return { unchanged: booking.status, reason: 'placed already as another queue booking' };
  const where = { queueBookingId: e.bookingId, slotId: e.slotId, branchId: e.branchId, startsAt: new Date(e.startsAt) };
  const firstAnswer = !booking.queueBookingId;

  if (e.serviceId !== booking.serviceId) {
    // The portal sent a slot of another service: the place is of no use to this package; give it back.
    if (!firstAnswer || !moves(booking.status, 'rejected')) return { unchanged: booking.status };
    const rejected = await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: { ...where, status: 'rejected', rejectReason: WRONG_SERVICE } });
    await ctx.emit('com.medlab.booking.cancel-requested', { bookingId: e.bookingId, patientId: e.patientId, reason: WRONG_SERVICE });
    if (booking.status === 'requested') await bookingNotice(ctx.emit, 'booking-rejected', rejected, { reason: WRONG_SERVICE });
    return { status: 'rejected', reason: WRONG_SERVICE };
  }
  if (booking.status === 'cancel_requested' && firstAnswer) {
    // The patient cancelled before the queue answered: now there is a queue booking to cancel.
    await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: where });
    await ctx.emit('com.medlab.booking.cancel-requested', { bookingId: e.bookingId, patientId: e.patientId });
    return { status: 'cancel_requested', cancelRequested: e.bookingId };
  }
  if (!moves(booking.status, status)) {
    if (firstAnswer) await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: where });
    return { unchanged: booking.status };
  }
  const updated = await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: { ...where, status } });
  if (status === 'confirmed') await bookingNotice(ctx.emit, 'booking-confirmed', updated);
  return { status };
}

/** News about a booking the queue placed: found by its booking id; moved only forward. */
async function followed(e: { bookingId: string }, ctx: Ctx, change: (b: PackageBooking) => { status?: PackageBookingStatus; slotId?: string; branchId?: string; startsAt?: Date }) {
  const booking = await lockBooking(ctx.tx, { queueBookingId: e.bookingId });
  if (!booking) return ignored;
  const { status, ...facts } = change(booking);
  const moving = status !== undefined && moves(booking.status, status);
  if (!moving && !Object.keys(facts).length) return { unchanged: booking.status };
  const updated = await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: { ...facts, ...(moving ? { status } : {}) } });
  // Staff confirmed a booking that was pending their word.
  if (moving && status === 'confirmed') await bookingNotice(ctx.emit, 'booking-confirmed', updated);
  return { status: updated.status };
}

export const handle = consume(
  { name: 'package-booking-consumer', system, topics: [topics.bookingEvents], summary: 'Move package bookings along as the booking queue answers and the visit goes' },
  {
    'com.medlab.booking.confirmed': (e, ctx) => placed(e, 'confirmed', ctx),
    'com.medlab.booking.pending': (e, ctx) => placed(e, 'pending', ctx),

    'com.medlab.booking.rejected': async (e, ctx) => {
      const booking = await answered(ctx.tx, e.requestId, e.patientId);
      if (!booking) return ignored;
      // Cancelled before the queue said no: what the patient asked for is done, and there is nothing to tell.
      if (booking.status === 'cancel_requested' && !booking.queueBookingId) {
        await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: { status: 'cancelled', rejectReason: e.reason } });
        return { status: 'cancelled', reason: e.reason };
      }
      if (booking.status !== 'requested') return { unchanged: booking.status };
      const rejected = await ctx.tx.packageBooking.update({ where: { id: booking.id }, data: { status: 'rejected', rejectReason: e.reason } });
      await bookingNotice(ctx.emit, 'booking-rejected', rejected, { reason: e.reason });
      return { status: 'rejected', reason: e.reason };
    },

    'com.medlab.booking.cancelled': (e, ctx) => followed(e, ctx, () => ({ status: 'cancelled' })),
    'com.medlab.booking.rescheduled': (e, ctx) =>
      followed(e, ctx, (b) => (isTerminal(b.status) ? {} : { slotId: e.slotId, branchId: e.branchId, startsAt: new Date(e.startsAt), status: e.status })),
    'com.medlab.booking.status-changed': (e, ctx) => followed(e, ctx, () => ({ status: e.status })),

    'com.medlab.slot.allocated': ignore,
    'com.medlab.slot.released': ignore,
  },
);
