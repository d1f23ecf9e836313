// The cron's settings, from the environment (knative/base/appointment/appointment-cron.yaml may set them;
// the defaults are what the clinics asked for). Read once at start-up: a bad value stops the function,
// naming the variable, rather than a job running on a guess.
import { refuse, wholeSetting as whole } from '../../shared/config';

export interface CronSettings {
  /** A booked visit whose start is this long past with the patient not arrived is a no-show. */
  noshowGraceMinutes: number;
  /** Inbox rows (events already handled) kept this long: a redelivery within it still has no effect. */
  inboxRetentionDays: number;
  /** HL7 v2 control ids already applied, kept this long: a LIS resend within it still changes nothing. */
  hl7RetentionDays: number;
  /** Idempotency records of routes (a client's retry with the same key), kept this long. */
  idempotencyRetentionDays: number;
  /** Holds that lapsed unconfirmed (cancelled hold-expired), kept this long with their timeline, then removed. */
  expiredHoldRetentionDays: number;
}

export function cronSettings(): CronSettings {
  return {
    noshowGraceMinutes: whole('APPOINTMENT_NOSHOW_GRACE_MINUTES', 30, 'minutes'),
    inboxRetentionDays: whole('APPOINTMENT_INBOX_RETENTION_DAYS', 30, 'days'),
    hl7RetentionDays: whole('APPOINTMENT_HL7_RETENTION_DAYS', 30, 'days'),
    idempotencyRetentionDays: whole('APPOINTMENT_IDEMPOTENCY_RETENTION_DAYS', 2, 'days'),
    expiredHoldRetentionDays: whole('APPOINTMENT_EXPIRED_HOLD_RETENTION_DAYS', 7, 'days'),
  };
}

/** At start-up: the settings, or the function refuses to start naming the bad one. */
export function assertCronSettings(): void {
  refuse(() => { cronSettings(); });
}
