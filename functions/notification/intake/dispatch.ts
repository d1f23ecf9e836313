// A notification whose time has come (a request due now, a results window closed, the end of quiet hours):
// checked against the patient's quiet hours once more (a non-critical notice due inside them waits, pending,
// until they end), planned (channels.ts: preference, policy, contacts), and delivered: the in-app inbox item
// is written here, in this transaction (no provider to wait for, so no trip through the sender), and the
// first external channel's delivery is created queued with its delivery-due for the sender. A patient with
// no usable external channel gets the inbox alone and is counted unreachable (the reason says why, never the
// contact). The caller holds the notification (a fresh row, or one claimed FOR UPDATE SKIP LOCKED), so it is
// dispatched once.
import { randomUUID } from 'node:crypto';
import { tableOf, type Tx } from '../../shared/db';
import { DomainError } from '../../shared/domain-errors';
import type { Notification } from '../../shared/generated/prisma/client';
import { system, type NotificationEmit } from '../system';
import type { ChannelName } from '../channels/channel';
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

type Row = Pick<Notification, 'id' | 'requestId' | 'recipientKind' | 'patientId' | 'team' | 'template' | 'category' | 'critical' | 'variables'>;

/**
 * The deliveries of the plan's first channels. The inbox item is the in-app delivery, written now and
 * delivered; a notice whose template cannot be filled leaves it queued for the sender, which refuses it with
 * the reason (the dead-letter system keeps it). The other channels are queued with their delivery-due.
 */
async function queue(tx: Tx, emit: NotificationEmit, n: Row, channels: ChannelName[], language?: string): Promise<void> {
  const deliveries = channels.map((channel) => ({ id: randomUUID(), notificationId: n.id, channel }));
  const inApp = deliveries.find((d) => d.channel === 'in-app');
  let message;
  try {
    message = inApp && n.patientId ? render(n.template, language, (n.variables ?? {}) as Variables) : undefined;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
  }
  const now = new Date();
  const delivered = inApp && message ? inApp : undefined;
  await tx.delivery.createMany({
    data: deliveries.map((d) => (d === delivered ? { ...d, status: 'delivered' as const, statusAt: now, attempts: 1, provider: 'inbox', providerMessageId: n.id } : d)),
  });
  if (delivered && message) {
    // The inbox item and the delivery's history row in one statement (the in-app channel's row, as channels/in-app.ts writes it).
    await tx.$executeRaw`
      WITH item AS (
        INSERT INTO ${inboxTable} (id, patient_id, notification_id, delivery_id, category, title, body, link)
        VALUES (${randomUUID()}::uuid, ${n.patientId}, ${n.id}::uuid, ${delivered.id}::uuid, ${n.category}, ${message.title}, ${message.body}, ${message.link ?? null})
        ON CONFLICT DO NOTHING)
      INSERT INTO ${historyTable} (delivery_id, status, at, source) VALUES (${delivered.id}::uuid, 'delivered', ${now}, 'sender')`;
    await emit('com.medlab.notification.delivery-changed', {
      notificationId: n.id, deliveryId: delivered.id, requestId: n.requestId, patientId: n.patientId!,
      channel: 'in-app', status: 'delivered', at: now.toISOString(), template: n.template, category: n.category,
    });
  }
  for (const d of deliveries) {
    if (d !== delivered) await emit('com.medlab.notification.delivery-due', { deliveryId: d.id, notificationId: n.id, channel: d.channel, attempt: 1 });
  }
}

export async function dispatch(tx: Tx, emit: NotificationEmit, n: Row, now: Date): Promise<Dispatched> {
  const policy = notificationPolicy();
  if (n.recipientKind === 'operators') {
    // An on-call list is reached by email at once: no inbox, no quiet hours.
    await tx.notification.update({ where: { id: n.id }, data: { channels: ['email'], status: 'dispatched' } });
    await queue(tx, emit, n, ['email']);
    return { status: 'dispatched', channels: ['email'] };
  }

  const patientId = n.patientId!;
  // The contact copy, the preferences and whether a push subscription is live, in one read.
  const [contact] = await tx.$queryRaw<Array<{ erased: boolean; email: string | null; phone: string | null; language: string; timezone: string; preferences: PreferenceRow[]; push: boolean }>>`
    SELECT c.erased, c.email, c.phone, c.language, c.timezone,
      COALESCE((SELECT json_agg(json_build_object('category', p.category, 'channels', p.channels, 'quietStart', p.quiet_start, 'quietEnd', p.quiet_end))
        FROM ${preferenceTable} p WHERE p.patient_id = c.patient_id), '[]'::json) AS preferences,
      EXISTS (SELECT 1 FROM ${pushTable} s WHERE s.patient_id = c.patient_id AND s.gone_at IS NULL) AS push
    FROM ${contactTable} c WHERE c.patient_id = ${patientId}`;
  if (!contact || contact.erased) {
    // Erased (or gone) while it waited: nobody to tell.
    await tx.notification.update({ where: { id: n.id }, data: { status: 'cancelled' } });
    return { status: 'cancelled', reason: contact ? 'the patient was erased' : 'no such patient' };
  }
  const { preferences } = contact;

  if (!n.critical) {
    const row = preferenceFor(preferences, n.category);
    const quiet = row?.quietStart && row?.quietEnd ? { start: row.quietStart, end: row.quietEnd } : policy.quietHours;
    const until = quietUntil(now, contact.timezone, quiet);
    if (until) {
      await tx.notification.update({ where: { id: n.id }, data: { status: 'pending', sendAt: until } });
      return { status: 'pending', sendAt: until.toISOString(), reason: 'quiet-hours' };
    }
  }

  const plan = planChannels(preferences, n.category, policy.channels.defaults, { email: Boolean(contact.email), phone: Boolean(contact.phone), push: contact.push });
  const status = plan.unreachable ? 'unreachable' : 'dispatched';
  await tx.notification.update({ where: { id: n.id }, data: { channels: plan.channels, status } });
  // The inbox and the first external channel; the sender moves down the plan when that one fails.
  await queue(tx, emit, n, plan.channels.slice(0, 2), contact.language);
  if (plan.unreachable) {
    await emit('com.medlab.notification.unreachable', { notificationId: n.id, requestId: n.requestId, patientId, template: n.template, reason: plan.unreachable });
  }
  return { status, channels: plan.channels };
}
