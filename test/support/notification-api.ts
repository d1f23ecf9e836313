// Notices as the notification system's consumers and sender would leave them, for the API's tests: a
// notification with its plan, its deliveries (and their history) and, when it reached the inbox, its item.
import { randomUUID } from 'node:crypto';
import { db } from '../../functions/shared/db';

type Status = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface NoticeOptions {
  patientId?: string;
  template?: string;
  category?: string;
  channels?: string[];
  status?: 'pending' | 'dispatched' | 'done' | 'unreachable' | 'cancelled';
  createdAt?: Date;
  /** Deliveries made so far; in-app delivered by default. */
  deliveries?: Array<{ channel: string; status: Status; attempts?: number; lastError?: string; history?: Array<{ status: Status; source: string; errorCode?: string; at?: Date }> }>;
  /** false: no inbox item (the in-app channel has not run). */
  inbox?: false | { title?: string; seenAt?: Date; readAt?: Date; archivedAt?: Date };
}

export async function createNotice(opts: NoticeOptions = {}) {
  const createdAt = opts.createdAt ?? new Date();
  const notification = await db().notification.create({
    data: {
      requestId: randomUUID(), recipientKind: 'patient', patientId: opts.patientId ?? 'p-1', template: opts.template ?? 'results-ready',
      category: opts.category ?? 'results', channels: opts.channels ?? ['in-app', 'sms', 'email'], status: opts.status ?? 'dispatched',
      variables: { link: 'https://portal.medlab.example/r/abc' }, createdAt, sendAt: createdAt,
    },
  });
  const deliveries = [];
  for (const d of opts.deliveries ?? [{ channel: 'in-app', status: 'delivered' as const }]) {
    const delivery = await db().delivery.create({
      data: { notificationId: notification.id, channel: d.channel, status: d.status, attempts: d.attempts ?? 1, lastError: d.lastError ?? null, provider: d.channel === 'sms' ? 'twilio-like' : null, createdAt },
    });
    for (const h of d.history ?? []) await db().deliveryEvent.create({ data: { deliveryId: delivery.id, status: h.status, source: h.source, errorCode: h.errorCode ?? null, at: h.at ?? createdAt } });
    deliveries.push(delivery);
  }
  const inApp = deliveries.find((d) => d.channel === 'in-app');
  const item = opts.inbox === false || !inApp ? undefined : await db().inboxItem.create({
    data: {
      patientId: notification.patientId!, notificationId: notification.id, deliveryId: inApp.id, category: notification.category,
      title: opts.inbox?.title ?? 'Your results are ready', body: 'Your lab results are ready. Please sign in to the patient portal to view them.',
      link: 'https://portal.medlab.example/r/abc', createdAt, seenAt: opts.inbox?.seenAt, readAt: opts.inbox?.readAt, archivedAt: opts.inbox?.archivedAt,
    },
  });
  return { notification, deliveries, item: item! };
}

/** n inbox items for a patient, one second apart, oldest first. */
export async function inboxOf(patientId: string, n: number, start = Date.now() - n * 1000) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await createNotice({ patientId, createdAt: new Date(start + i * 1000), inbox: { title: `notice ${i}` } }));
  return out;
}
