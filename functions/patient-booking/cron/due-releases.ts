// Held sensitive reports whose automatic release time came with no clinician's decision are released
// (audited as auto-released by the cron): holding for review never becomes withholding. Critical reports are
// never released here. Each batch claims its reports FOR UPDATE SKIP LOCKED and its releases commit with
// it: two overlapping runs never release one report twice.
import { transaction } from '../../shared/outbox';
import { inBatches } from '../../shared/scheduled';
import { releaseReport } from '../release';
import { dueHeldReports } from '../results';
import { system } from '../system';

const BATCH = 100;
/** 20 batches (2,000 reports) a minute at most: a larger backlog goes on in the next minute's run. */
const MAX_BATCHES = 20;

export async function releaseDue(source: string, actor: string, now: Date): Promise<number> {
  let released = 0;
  await inBatches(BATCH, MAX_BATCHES, () => transaction(system, source, async (tx, emit) => {
    const due = await dueHeldReports(tx, now, BATCH);
    for (const id of due) {
      if (await releaseReport(tx, emit, id, { actor, reason: 'automatic release time reached: no clinician decided before', at: now, action: 'auto-released' })) released++;
    }
    return due.length;
  }));
  return released;
}
