// The cron's retention settings, from the environment (defaults below). Read once at start-up: a bad value
// stops the function, naming the variable, rather than a job running on a guess.
import { refuse, wholeSetting } from '../../shared/config';

const days = (name: string, fallback: number) => wholeSetting(name, fallback, 'days');

export interface CronSettings {
  /** HL7 control ids already applied, kept this long: a LIS resend within it still changes nothing. */
  hl7RetentionDays: number;
  /** Inbox rows (events already handled), kept this long: a redelivery within it still has no effect. */
  inboxRetentionDays: number;
  /** Outbox rows already published, kept this long for tracing what was said. */
  outboxRetentionDays: number;
  /** Idempotency records of routes (a client's retry with the same key), kept this long. */
  idempotencyRetentionDays: number;
}

export function cronSettings(): CronSettings {
  return {
    hl7RetentionDays: days('PATIENT_BOOKING_HL7_RETENTION_DAYS', 30),
    inboxRetentionDays: days('PATIENT_BOOKING_INBOX_RETENTION_DAYS', 30),
    outboxRetentionDays: days('PATIENT_BOOKING_OUTBOX_RETENTION_DAYS', 7),
    idempotencyRetentionDays: days('PATIENT_BOOKING_IDEMPOTENCY_RETENTION_DAYS', 2),
  };
}

/** At start-up: the settings, or the function refuses to start naming the bad one. */
export function assertCronSettings(): void {
  refuse(() => { cronSettings(); });
}
