// The booking queue's batch publisher (functions/shared/outbox-sweep.ts): booking, slot and queue events leave
// the outbox even when the publish right after their commit could not; it serves the patients-waiting gauges.
import { outboxSweep } from '../../shared/outbox-sweep';
import { system } from '../system';
import { gauges } from '../metrics';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = outboxSweep(system, gauges);
