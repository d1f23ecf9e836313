// The patient-booking system's batch publisher (functions/shared/outbox-sweep.ts): booking requests, lane
// routings and releases leave the outbox even when the publish right after their commit could not.
import { outboxSweep } from '../../shared/outbox-sweep';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = outboxSweep(system);
