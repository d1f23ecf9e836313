// One send of a claimed delivery: the notice rendered in the patient's language, the address read from the
// contact copy (or the live push subscriptions) at this moment and kept nowhere else, the channel's one
// send, then what it did recorded (deliveries.ts). Addresses never reach a log line or an event.
import { db, tableOf, type Tx } from '../../shared/db';
import { system } from '../system';
import { DomainError } from '../../shared/domain-errors';
import type { Logger } from '../../shared/log';
import { render, type Variables } from '../templates';
import { channel } from '../channels/registry';
import { notificationPolicy } from '../intake/policy';
import { ChannelUnavailable, type Send } from '../channels/channel';
import type { Claimed, Outcome } from '../deliveries';

export type Prepared = { send: Send } | { refused: string };

const notifications = tableOf(system, 'notification');
const contacts = tableOf(system, 'contact_point');

interface NoticeToSend {
  id: string; patientId: string | null; recipientKind: string; team: string | null; template: string; category: string; variables: unknown;
  usable: boolean | null; email: string | null; phone: string | null; language: string | null;
}

/** What to send and where, as the contact copy says now; a template that cannot be filled is refused. */
export async function prepare(claimed: Claimed): Promise<Prepared> {
  // The notice and the patient's contacts as they are now, in one read.
  const [n] = await db().$queryRaw<NoticeToSend[]>`
    SELECT n.id::text AS id, n.patient_id AS "patientId", n.recipient_kind AS "recipientKind", n.team, n.template, n.category, n.variables,
      c.patient_id IS NOT NULL AND NOT c.erased AS usable, c.email, c.phone, c.language
    FROM ${notifications} n LEFT JOIN ${contacts} c ON c.patient_id = n.patient_id WHERE n.id = ${claimed.notificationId}::uuid`;
  if (!n) throw new Error(`notification ${claimed.notificationId} of delivery ${claimed.id} is gone`);
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
  else if (claimed.channel === 'push') {
    to = n.patientId && usable
      ? (await db().pushSubscription.findMany({ where: { patientId: n.patientId, goneAt: null }, orderBy: { createdAt: 'asc' }, select: { id: true, endpoint: true, p256dh: true, auth: true } }))
      : [];
  }
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
