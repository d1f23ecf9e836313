// Holds that lapsed: a proposed visit the patient never confirmed (hold-expired) and a pending one whose POS
// payment never came (payment-expired) are cancelled when holdExpiresAt passes, and their resources go back
// for the next patient. One small transaction per visit, the move conditional on its status and expiry:
// a confirmation or a payment committing first wins, and two runs cancel once.
import { db } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { facts, note, releaseResources, sameDay } from '../appointments';
import { system } from '../system';

const BATCH = 200;
const MAX_BATCHES = 10;

const REASON = { proposed: 'hold-expired', pending: 'payment-expired' } as const;

export async function releaseExpiredHolds(source: string, now: Date): Promise<{ holdExpired: number; paymentExpired: number }> {
  const released = { holdExpired: 0, paymentExpired: 0 };
  await inBatches(BATCH, MAX_BATCHES, async () => {
    const lapsed = await db().appointment.findMany({
      where: { status: { in: ['proposed', 'pending'] }, holdExpiresAt: { lte: now } },
      select: { id: true, status: true }, orderBy: { holdExpiresAt: 'asc' }, take: BATCH,
    });
    for (const { id, status } of lapsed) {
      const from = status as keyof typeof REASON;
      const reason = REASON[from];
      const done = await transaction(system, source, async (tx, emit) => {
        const moved = await tx.appointment.updateMany({ where: { id, status: from, holdExpiresAt: { lte: now } }, data: { status: 'cancelled', cancelReason: reason } });
        if (!moved.count) return false;
        const visit = await tx.appointment.findUniqueOrThrow({ where: { id } });
        await releaseResources(tx, id, now);
        await note(tx, id, 'cancelled', 'cron', { reason, previousStatus: from }, now);
        await emit('com.medlab.appointment.cancelled', { ...facts(visit), reason, cancelledBy: 'cron', sameDay: sameDay(visit, now) });
        return true;
      });
      if (done) released[reason === 'hold-expired' ? 'holdExpired' : 'paymentExpired']++;
    }
    return lapsed.length;
  });
  return released;
}
