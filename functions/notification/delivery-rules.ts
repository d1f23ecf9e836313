// The rules a delivery lives by, as pure functions (no database, no provider): a status only moves forward
// whatever order and however often providers report; a provider outage is retried with backoff (Knock's
// 8 retries over about 30 minutes) and then given up; a channel that fails hands over to the next one of
// the notification's plan that has not been tried.
import type { ChannelName } from './channels/channel';

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

const RANK: Record<DeliveryStatus, number> = { queued: 0, sent: 1, delivered: 2, read: 3, undelivered: 4, failed: 4 };
export const isFinalFailure = (s: DeliveryStatus) => s === 'undelivered' || s === 'failed';

/**
 * The status after a report, or undefined when the report changes nothing: queued < sent < delivered < read;
 * undelivered and failed end a delivery that had not yet arrived (a late failure after delivered, or anything
 * after a failure, changes nothing); a repeat of the same status changes nothing.
 */
export function advance(current: DeliveryStatus, reported: DeliveryStatus): DeliveryStatus | undefined {
  if (reported === current || isFinalFailure(current)) return undefined;
  if (isFinalFailure(reported)) return RANK[current] < RANK.delivered ? reported : undefined;
  return RANK[reported] > RANK[current] ? reported : undefined;
}

/**
 * Seconds to wait after the n-th attempt failed for a passing reason, before the next: 15 s doubling to
 * 8 min, then 8 min. Eight retries after the first attempt span about 32 minutes (Knock: 8 over 30).
 */
export const BACKOFF_SECONDS = [15, 30, 60, 120, 240, 480, 480, 480] as const;
/** The first send and its 8 retries. */
export const MAX_ATTEMPTS = BACKOFF_SECONDS.length + 1;

/**
 * When the next attempt is due after `attempts` sends failed for a passing reason, or undefined when they are
 * exhausted. ±10 % jitter keeps deliveries that failed together from all coming back in the same second; a
 * provider's Retry-After is honoured when it asks for longer.
 */
export function nextAttemptAt(attempts: number, now: Date, retryAfterSeconds?: number, random: () => number = Math.random): Date | undefined {
  if (attempts >= MAX_ATTEMPTS) return undefined;
  const base = BACKOFF_SECONDS[Math.max(0, attempts - 1)];
  const jittered = base * (0.9 + 0.2 * random());
  const seconds = Math.max(jittered, retryAfterSeconds ?? 0);
  return new Date(now.getTime() + Math.round(seconds * 1000));
}

/**
 * The channel to try after `failed` gave up: the next of the plan (in-app never: it always has its item)
 * that has no delivery yet; undefined when none is left.
 */
export function nextChannel(plan: readonly string[], failed: string, tried: readonly string[]): ChannelName | undefined {
  const after = plan.slice(plan.indexOf(failed) + 1);
  const candidates = plan.indexOf(failed) < 0 ? plan : after;
  return candidates.find((c) => c !== 'in-app' && !tried.includes(c)) as ChannelName | undefined;
}

/** A Twilio-shaped MessageStatus in our words: undefined for one that says nothing about an outgoing message. */
export function fromProviderStatus(status: string): DeliveryStatus | undefined {
  switch (status) {
    case 'accepted': case 'scheduled': case 'queued': return 'queued';
    case 'sending': case 'sent': return 'sent';
    case 'delivered': return 'delivered';
    case 'undelivered': return 'undelivered';
    case 'failed': case 'canceled': return 'failed';
    case 'read': return 'read';
    default: return undefined;
  }
}
