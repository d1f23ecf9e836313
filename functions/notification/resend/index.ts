// Staff send a notification again on one channel (the patient lost the SMS, a provider outage ended): the
// channel's delivery goes back to queued (its attempts kept, the history saying which staff member asked),
// or is made when the failover chain had not reached it, and the sender is told it is due. Only a channel
// of the notification's plan, and not while a send on it is still queued: two staff asking at once make one
// send, not two. A resend is a new message on purpose: it gets a new send key (the provider's idempotency
// token, Message-ID and push Topic), so a provider that drops a repeated key does not drop it; the request
// itself honours Idempotency-Key, so staff retrying the same request make one resend.
import { randomUUID } from 'node:crypto';
import { route } from '../../shared/http';
import { conflict, notFound } from '../../shared/domain-errors';
import { Prisma, tableOf } from '../../shared/db';
import { system } from '../system';
import type { ChannelName } from '../channels/channel';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

const deliveries = tableOf(system, 'delivery');
const deliveryEvents = tableOf(system, 'delivery_event');

interface DeliveryRow { id: string; channel: string; status: string; statusAt: Date; attempts: number; lastError: string | null; provider: string | null; createdAt: Date }
const returning = Prisma.sql`RETURNING id::text AS id, channel, status::text AS status, status_at AS "statusAt", attempts, last_error AS "lastError", provider, created_at AS "createdAt"`;

export const handle = route(
  {
    name: 'notification-resend', system, method: 'POST', path: '/api/notifications/resend',
    summary: 'Send a notification again on one channel of its plan (staff)', auth: ['staff'], body, idempotent: true,
    responses: { 202: { description: 'the delivery, queued again; the sender takes it', schema: view } },
    refuses: {
      'not-found': 'no such notification',
      conflict: 'a channel not in its plan (or only the in-app inbox, which already holds it); a send on the channel still queued; a notification not yet sent or cancelled',
    },
  },
  async ({ body, caller, transaction }) => transaction(async (tx, emit) => {
    const notice = await tx.notification.findUnique({ where: { id: body.notificationId } });
    if (!notice) throw notFound('notificationId');
    if (notice.status === 'pending') throw conflict('not sent yet: it goes at its send time', 'notificationId');
    if (notice.status === 'cancelled') throw conflict('the notification was cancelled', 'notificationId');
    const channel = (body.channel ?? notice.channels.find((c) => c !== 'in-app')) as ChannelName | undefined;
    if (!channel) throw conflict('its plan has only the in-app inbox, which already holds it', 'channel');
    if (!notice.channels.includes(channel)) throw conflict(`${channel} is not in this notification's plan (${notice.channels.join(', ')})`, 'channel');
    if (channel === 'in-app' && (await tx.inboxItem.count({ where: { notificationId: notice.id } }))) throw conflict('the patient\'s inbox already holds it', 'channel');

    // The row lock makes a second resend meanwhile wait, then find the delivery queued and refuse.
    const [again] = await tx.$queryRaw<DeliveryRow[]>`
      UPDATE ${deliveries} SET status = 'queued', status_at = now(), next_attempt_at = NULL, claimed_at = NULL, send_key = gen_random_uuid()
      WHERE notification_id = ${notice.id}::uuid AND channel = ${channel} AND status <> 'queued' ${returning}`;
    const [made] = again ? [again] : await tx.$queryRaw<DeliveryRow[]>`
      INSERT INTO ${deliveries} (id, notification_id, channel) VALUES (${randomUUID()}::uuid, ${notice.id}::uuid, ${channel})
      ON CONFLICT (notification_id, channel) DO NOTHING ${returning}`;
    if (!made) throw conflict(`a send on ${channel} is still queued`, 'channel');

    // One history row per staff member and status (the table's key): asking again moves its time.
    const source = `staff:${caller.subject}`.slice(0, 200);
    await tx.$executeRaw`
      INSERT INTO ${deliveryEvents} (delivery_id, status, at, source) VALUES (${made.id}::uuid, 'queued', ${made.statusAt}, ${source})
      ON CONFLICT (delivery_id, source, status) DO UPDATE SET at = EXCLUDED.at, error_code = NULL`;
    if (notice.status === 'done' || notice.status === 'unreachable') await tx.notification.update({ where: { id: notice.id }, data: { status: 'dispatched' } });

    const at = made.statusAt.toISOString();
    await emit('com.medlab.notification.delivery-due', { deliveryId: made.id, notificationId: notice.id, channel, attempt: made.attempts + 1 });
    await emit('com.medlab.notification.delivery-changed', {
      notificationId: notice.id, deliveryId: made.id, requestId: notice.requestId, channel, status: 'queued', at,
      template: notice.template, category: notice.category, ...(notice.patientId ? { patientId: notice.patientId } : {}),
    });
    return {
      status: 202,
      body: {
        notificationId: notice.id,
        delivery: {
          deliveryId: made.id, channel, status: made.status, statusAt: at, attempts: made.attempts, lastError: made.lastError, provider: made.provider,
          createdAt: made.createdAt.toISOString(),
          history: (await tx.deliveryEvent.findMany({ where: { deliveryId: made.id }, orderBy: [{ at: 'asc' }, { id: 'asc' }] }))
            .map((h) => ({ status: h.status, at: h.at.toISOString(), source: h.source, errorCode: h.errorCode })),
        },
      },
    };
  }),
);
