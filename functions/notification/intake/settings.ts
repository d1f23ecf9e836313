// The intake's settings from the environment (knative/base/notification/*.yaml document them; the defaults
// are what the clinics asked for). Read at start-up: a bad value stops the function, naming the variable.
import { refuse, wholeSetting as whole } from '../../shared/config';

export interface IntakeSettings {
  /** Reports of one accession released within this many minutes of the first make one notice. */
  resultsWindowMinutes: number;
  /** Notifications (with their deliveries and history) and inbox items are kept this long. */
  retentionDays: number;
  /** Consumer inbox rows (CloudEvents already handled): a redelivery within this still has no effect. */
  eventRetentionDays: number;
  /** Idempotency records of the notification routes. */
  idempotencyRetentionDays: number;
  /** A sender's claim older than this is dead (its process is gone): the cron re-emits the delivery. */
  claimStaleSeconds: number;
}

export function intakeSettings(): IntakeSettings {
  return {
    resultsWindowMinutes: whole('NOTIFICATION_RESULTS_WINDOW_MINUTES', 10, 'minutes'),
    retentionDays: whole('NOTIFICATION_RETENTION_DAYS', 180, 'days'),
    eventRetentionDays: whole('NOTIFICATION_EVENT_RETENTION_DAYS', 30, 'days'),
    idempotencyRetentionDays: whole('NOTIFICATION_IDEMPOTENCY_RETENTION_DAYS', 2, 'days'),
    claimStaleSeconds: whole('NOTIFICATION_CLAIM_STALE_SECONDS', 120, 'seconds'),
  };
}

export function assertIntakeSettings(): void {
  refuse(() => { intakeSettings(); });
}
