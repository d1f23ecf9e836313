// Visits the patient never arrived for: still booked when start + grace has passed, the visit becomes
// noshow and its resources are free again. One small transaction per visit; the status move is conditional
// (still booked, still past grace), so a run overlapping another, or a check-in at the last second, wins once.
import { db } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { facts, note, releaseResources } from '../appointments';
import { system } from '../system';

const BATCH = 200;
const MAX_BATCHES = 10;

export async function markNoShows(source: string, now: Date, graceMinutes: number): Promise<number> {
  const cutoff = new Date(now.getTime() - graceMinutes * 60_000);
  let marked = 0;
  await inBatches(BATCH, MAX_BATCHES, async () => {
    const late = await db().appointment.findMany({ where: { status: 'booked', startsAt: { lte: cutoff } }, select: { id: true }, orderBy: { startsAt: 'asc' }, take: BATCH });
    for (const { id } of late) {
      marked += await transaction(system, source, async (tx, emit) => {
        const moved = await tx.appointment.updateMany({ where: { id, status: 'booked', startsAt: { lte: cutoff } }, data: { status: 'noshow' } });
        if (!moved.count) return 0;
        const visit = await tx.appointment.findUniqueOrThrow({ where: { id } });
        await releaseResources(tx, id, now);
        await note(tx, id, 'noshow', 'cron', { previousStatus: 'booked', graceMinutes }, now);
        await emit('com.medlab.appointment.status-changed', { ...facts(visit), previousStatus: 'booked' });
        return 1;
      });
    }
    return late.length;
  });
  return marked;
}
