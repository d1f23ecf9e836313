// A notification whose time has come (a request due now, a results window closed, the end of quiet hours):
// checked against the patient's quiet hours once more (a non-critical notice due inside them waits, pending,
// until they end), planned (channels.ts: preference, policy, contacts), and delivered: the in-app inbox item
// is written here, in this transaction (no provider to wait for, so no trip through the sender), and the
// first external channel's delivery is created queued with its delivery-due for the sender. A patient with
// no usable external channel gets the inbox alone and is counted unreachable (the reason says why, never the
// contact). decide() is the choice, pure; a new notice is written with it in one statement (notice.ts), one
// that waited is updated to it (dispatch()). The caller holds the notification (a fresh row, or one claimed
// FOR UPDATE SKIP LOCKED), so it is dispatched once.
import { randomUUID } from 'node:crypto';
import { Prisma, tableOf, typeOf, type Tx } from '../../shared/db';
import { DomainError } from '../../shared/domain-errors';
import type { Notification } from '../../shared/generated/prisma/client';
import { system, type NotificationEmit } from '../system';
import type { ChannelName, RenderedMessage } from '../channels/channel';
import { render, type Variables } from '../templates';
import { notificationPolicy } from './policy';
import { planChannels, preferenceFor, type PreferenceRow } from './channel-plan';
import { quietUntil } from './quiet-hours';

export type Dispatched =
  | { status: 'pending'; sendAt: string; reason: 'quiet-hours' }
  | { status: 'dispatched' | 'unreachable'; channels: ChannelName[] }
  | { status: 'cancelled'; reason: string };

const contactTable = tableOf(system, 'contact_point');
const preferenceTable = tableOf(system, 'preference');
const pushTable = tableOf(system, 'push_subscription');
const inboxTable = tableOf(system, 'inbox_item');
const historyTable = tableOf(system, 'delivery_event');
const deliveryTable = tableOf(system, 'delivery');
const notificationTable = tableOf(system, 'notification');

export type Row = Pick<Notification, 'id' | 'requestId' | 'recipientKind' | 'patientId' | 'team' | 'template' | 'category' | 'critical' | 'variables'>;

/** What the system knows of a patient to reach them: the contact copy, their preferences, whether a push subscription is live. */
export interface Reach { erased: boolean; email: string | null; phone: string | null; language: string; timezone: string; preferences: PreferenceRow[]; push: boolean }

/** The columns of a Reach, for a statement that reads the contact copy as `c` (one round trip for what a caller reads with it). */
export const REACH = Prisma.sql`c.erased, c.email, c.phone, c.language, c.timezone,
  COALESCE((SELECT json_agg(json_build_object('category', p.category, 'channels', p.channels, 'quietStart', p.quiet_start, 'quietEnd', p.quiet_end))
    FROM ${preferenceTable} p WHERE p.patient_id = c.patient_id), '[]'::json) AS preferences,
  EXISTS (SELECT 1 FROM ${pushTable} s WHERE s.patient_id = c.patient_id AND s.gone_at IS NULL) AS push`;

export async function reachOf(tx: Tx, patientId: string): Promise<Reach | undefined> {
  const [reach] = await tx.$queryRaw<Reach[]>`SELECT ${REACH} FROM ${contactTable} c WHERE c.patient_id = ${patientId}`;
  return reach;
}

export type Decision =
  | { status: 'cancelled'; reason: string }
  | { status: 'pending'; sendAt: Date; reason: 'quiet-hours' }
  | { status: 'dispatched' | 'unreachable'; channels: ChannelName[]; unreachable?: string; language?: string };

/** What becomes of a notice due now, for the patient as `reach` has them (undefined: no such patient). */
export function decide(n: Row, reach: Reach | undefined, now: Date): Decision {
  // An on-call list is reached by email at once: no inbox, no quiet hours.
  if (n.recipientKind === 'operators') return { status: 'dispatched', channels: ['email'] };
  // Erased (or gone) while it waited: nobody to tell.
  if (!reach || reach.erased) return { status: 'cancelled', reason: reach ? 'the patient was erased' : 'no such patient' };
  const policy = notificationPolicy();
  if (!n.critical) {
    const row = preferenceFor(reach.preferences, n.category);
    const quiet = row?.quietStart && row?.quietEnd ? { start: row.quietStart, end: row.quietEnd } : policy.quietHours;
    const until = quietUntil(now, reach.timezone, quiet);
    if (until) return { status: 'pending', sendAt: until, reason: 'quiet-hours' };
  }
  const plan = planChannels(reach.preferences, n.category, policy.channels.defaults, { email: Boolean(reach.email), phone: Boolean(reach.phone), push: reach.push });
  return { status: plan.unreachable ? 'unreachable' : 'dispatched', channels: plan.channels, unreachable: plan.unreachable, language: reach.language };
}

export const outcomeOf = (d: Decision): Dispatched =>
  d.status === 'pending' ? { status: 'pending', sendAt: d.sendAt.toISOString(), reason: d.reason }
    : d.status === 'cancelled' ? d
      : { status: d.status, channels: d.channels };

/**
 * The deliveries of a dispatched notice: the inbox and the first external channel (the sender moves down the
 * plan when that one fails). The inbox item is the in-app delivery, written now and delivered; a notice whose
 * template cannot be filled leaves it queued for the sender, which refuses it with the reason (the
 * dead-letter system keeps it). The other channels are queued with their delivery-due.
 */
export interface Deliveries {
  /** Its rows as WITH clauses, written only when `written` holds: after the notice's own row, in the same statement. */
  clauses(written: Prisma.Sql): Prisma.Sql[];
  /** Their events, once the statement wrote them. */
  announce(emit: NotificationEmit): Promise<void>;
}

export function deliveriesOf(n: Row, decision: Extract<Decision, { channels: ChannelName[] }>, now: Date): Deliveries {
  const deliveries = decision.channels.slice(0, 2).map((channel) => ({ id: randomUUID(), channel }));
  const inApp = deliveries.find((d) => d.channel === 'in-app');
  let message: RenderedMessage | undefined;
  try {
    message = inApp && n.patientId ? render(n.template, decision.language, (n.variables ?? {}) as Variables) : undefined;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
  }
  const delivered = inApp && message ? inApp : undefined;
  return {
    clauses: (written) => [
      Prisma.sql`deliveries AS (
        INSERT INTO ${deliveryTable} (id, notification_id, channel, status, status_at, attempts, provider, provider_message_id)
        SELECT v.id::uuid, ${n.id}::uuid, v.channel, v.status::${typeOf(system, 'delivery_status')}, ${now}, v.attempts::int, v.provider, v.provider_message_id
        FROM (VALUES ${Prisma.join(deliveries.map((d) => (d === delivered
          ? Prisma.sql`(${d.id}, ${d.channel}, 'delivered', 1, 'inbox', ${n.id})`
          : Prisma.sql`(${d.id}, ${d.channel}, 'queued', 0, NULL, NULL)`)))}) AS v(id, channel, status, attempts, provider, provider_message_id)
        WHERE ${written})`,
      ...(delivered && message ? [
        // The inbox item and the in-app delivery's history row (as channels/in-app.ts writes them).
        Prisma.sql`item AS (
          INSERT INTO ${inboxTable} (id, patient_id, notification_id, delivery_id, category, title, body, link)
          SELECT ${randomUUID()}::uuid, ${n.patientId}, ${n.id}::uuid, ${delivered.id}::uuid, ${n.category}, ${message.title}, ${message.body}, ${message.link ?? null}
          WHERE ${written} ON CONFLICT DO NOTHING)`,
        Prisma.sql`delivered AS (
          INSERT INTO ${historyTable} (delivery_id, status, at, source) SELECT ${delivered.id}::uuid, 'delivered', ${now}, 'sender' WHERE ${written})`,
      ] : []),
    ],
    announce: async (emit) => {
      if (delivered) {
        await emit('com.medlab.notification.delivery-changed', {
          notificationId: n.id, deliveryId: delivered.id, requestId: n.requestId, patientId: n.patientId!,
          channel: 'in-app', status: 'delivered', at: now.toISOString(), template: n.template, category: n.category,
        });
      }
      for (const d of deliveries) {
        if (d !== delivered) await emit('com.medlab.notification.delivery-due', { deliveryId: d.id, notificationId: n.id, channel: d.channel, attempt: 1 });
      }
      if (decision.status === 'unreachable') {
        await emit('com.medlab.notification.unreachable', { notificationId: n.id, requestId: n.requestId, patientId: n.patientId!, template: n.template, reason: decision.unreachable! });
      }
    },
  };
}

/** A notification that waited (the caller holds its row) dispatched now, or left pending or cancelled. */
export async function dispatch(tx: Tx, emit: NotificationEmit, n: Row, now: Date): Promise<Dispatched> {
  const decision = decide(n, n.recipientKind === 'patient' ? await reachOf(tx, n.patientId!) : undefined, now);
  if (decision.status === 'cancelled') await tx.notification.update({ where: { id: n.id }, data: { status: 'cancelled' } });
  else if (decision.status === 'pending') await tx.notification.update({ where: { id: n.id }, data: { status: 'pending', sendAt: decision.sendAt } });
  else {
    const deliveries = deliveriesOf(n, decision, now);
    await tx.$executeRaw`
      WITH ${Prisma.join(deliveries.clauses(Prisma.sql`true`), ', ')}
      UPDATE ${notificationTable} SET channels = ${decision.channels}, status = ${decision.status}::${typeOf(system, 'notification_status')}, updated_at = now()
      WHERE id = ${n.id}::uuid`;
    await deliveries.announce(emit);
  }
  return outcomeOf(decision);
}
