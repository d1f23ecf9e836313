// One send of a claimed delivery: the notice rendered in the patient's language, the address read from the
// contact copy (or the live push subscriptions) as the claim read them and kept nowhere else, the channel's one
// send, then what it did recorded (deliveries.ts). Addresses never reach a log line or an event.
import type { Tx } from '../../shared/db';
import { DomainError } from '../../shared/domain-errors';
import type { Logger } from '../../shared/log';
import { render, type Variables } from '../templates';
import { channel } from '../channels/registry';
import { notificationPolicy } from '../intake/policy';
import { ChannelUnavailable, type Send } from '../channels/channel';
import type { Claimed, NoticeToSend, Outcome } from '../deliveries';

export type Prepared = { send: Send } | { refused: string };

/** What to send and where, as the claim read the notice and the contact copy; a template that cannot be filled is refused. */
export function prepare(claimed: Claimed, n: NoticeToSend): Prepared {
  const usable = n.usable ? { email: n.email, phone: n.phone, language: n.language ?? undefined } : null;
  // Operators read English; a team's on-call addresses come from the policy, as the intake planned them.
  const operators = n.recipientKind === 'operators';
  let message;
  try {
    message = render(n.template, operators ? 'en' : usable?.language, (n.variables ?? {}) as Variables);
  } catch (err) {
    if (err instanceof DomainError) return { refused: `${err.field ?? 'template'}: ${err.message}` };
    throw err;
  }
  let to: Send['to'];
  if (operators) to = claimed.channel === 'email' && n.team ? notificationPolicy().teams[n.team]?.email.join(', ') : undefined;
  else if (claimed.channel === 'email') to = usable?.email ?? undefined;
  else if (claimed.channel === 'sms') to = usable?.phone ?? undefined;
  else if (claimed.channel === 'push') to = n.patientId && usable ? (n.push ?? []) : [];
  return {
    send: {
      deliveryId: claimed.id, notificationId: n.id, ...(n.patientId ? { patientId: n.patientId } : {}), category: n.category,
      message, ...(to !== undefined ? { to } : {}), idempotencyKey: claimed.sendKey,
    },
  };
}

/** The channel's one send (in-app writes in the recording transaction instead: see sendInApp). */
export async function sendOnce(send: Send, channelName: Claimed['channel'], log: Logger): Promise<Outcome> {
  try {
    return { kind: 'result', result: await channel(channelName).send(send) };
  } catch (err) {
    if (err instanceof ChannelUnavailable) return { kind: 'unavailable', reason: err.message, retryAfterSeconds: err.retryAfterSeconds };
    // An error of our own around the provider call: retried like an outage, and logged to be fixed.
    log.error({ err, deliveryId: send.deliveryId, channel: channelName }, 'the channel failed unexpectedly; retrying later');
    return { kind: 'unavailable', reason: `${channelName}: unexpected error` };
  }
}

export async function sendInApp(send: Send, tx: Tx): Promise<Outcome> {
  return { kind: 'result', result: await channel('in-app').send(send, tx) };
}
