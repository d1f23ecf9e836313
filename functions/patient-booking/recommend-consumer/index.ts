// Recommendations follow what happens to a patient: a released result (result-events) or a completed package
// booking (booking-events) recomputes that patient's ranked packages with the rules in force, stored with
// the rules' version. booking-events carries every booking of the booking queue: only a package booking of
// this system that completed matters; every other event is answered 200 and ignored (a KafkaSource cannot
// filter by type, and a 400 would dead-letter each one).
import { consume } from '../../shared/consume';
import { system } from '../system';
import { topics } from '../events';
import { recompute } from '../recommending';
import { assertRecommendationRules } from '../recommendation-rules';
export { init, shutdown } from '../../shared/lifecycle';

assertRecommendationRules();

const ignore = async () => ({ ignored: true });

const outcome = (patientId: string, computed: Awaited<ReturnType<typeof recompute>>) =>
  computed ? { patientId, rulesVersion: computed.rulesVersion, packages: computed.recommendations.map((r) => r.packageCode) } : { patientId, ignored: 'erased' };

export const handle = consume(
  { name: 'recommend-consumer', system, topics: [topics.results, topics.bookingEvents], summary: 'Recompute a patient\'s recommended packages after a result is released or a package booking completes' },
  {
    'com.medlab.result.released': async (r, { tx }) => outcome(r.patientId, await recompute(tx, r.patientId, new Date())),
    'com.medlab.booking.status-changed': async (b, { tx }) => {
      if (b.status !== 'completed') return { ignored: true };
      const booking = await tx.packageBooking.findUnique({ where: { queueBookingId: b.bookingId }, select: { patientId: true, packageCode: true } });
      // A plain slot booking (not a package booked here), or another patient's: nothing to recompute.
      if (!booking || booking.patientId !== b.patientId) return { ignored: true };
      // The booking consumer may not have marked it completed yet: this event says it is.
      return outcome(b.patientId, await recompute(tx, b.patientId, new Date(), { [booking.packageCode]: new Date(b.startsAt) }));
    },
    'com.medlab.booking.confirmed': ignore,
    'com.medlab.booking.pending': ignore,
    'com.medlab.booking.rejected': ignore,
    'com.medlab.booking.cancelled': ignore,
    'com.medlab.booking.rescheduled': ignore,
    'com.medlab.slot.allocated': ignore,
    'com.medlab.slot.released': ignore,
  },
);
