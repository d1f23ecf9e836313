// A day before a package booking's visit the patient is reminded (notification-requests, template
// booking-reminder), once per booking. A booking made less than a day ahead is not: its confirmation came
// within the day already. Each batch claims its bookings FOR UPDATE SKIP LOCKED and marks them reminded with
// the request in one transaction: two overlapping runs never remind twice.
import { tableOf } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import type { PackageBooking } from '../../shared/generated/prisma/client';
import { bookingNotice } from '../bookings';
import { system } from '../system';

/** How long before the visit the reminder goes. */
export const REMINDER_LEAD_MS = 24 * 3_600_000;
const BATCH = 200;
const MAX_BATCHES = 10;
const bookings = tableOf(system, 'package_booking');

export async function remindDue(source: string, now: Date): Promise<number> {
  let reminded = 0;
  const horizon = new Date(now.getTime() + REMINDER_LEAD_MS);
  await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
    const due = await tx.$queryRaw<Array<{ id: string; created_at: Date; starts_at: Date }>>`
      SELECT id::text AS id, created_at, starts_at FROM ${bookings}
      WHERE status = 'confirmed' AND reminded_at IS NULL AND starts_at > ${now}::timestamptz AND starts_at <= ${horizon}::timestamptz
      ORDER BY starts_at LIMIT ${BATCH}
      FOR UPDATE SKIP LOCKED`;
    for (const row of due) {
      const bookedAhead = row.starts_at.getTime() - row.created_at.getTime();
      const booking: PackageBooking = await tx.packageBooking.update({ where: { id: row.id }, data: { remindedAt: now } });
      // Booked within the day: the confirmation was the reminder (marked, so it is not looked at again).
      if (bookedAhead < REMINDER_LEAD_MS) continue;
      await bookingNotice(emit, 'booking-reminder', booking);
      reminded++;
    }
    return due.length;
  }));
  return reminded;
}
