// Provider callbacks and read receipts (notification-updates, key deliveryId), applied in order per delivery:
// a status only moves forward whatever order and however often reports come (the same report twice is one
// history row), delivery-changed goes out on a real change, a provider's undelivered or failed hands over to
// the next channel as the sender does, and a read marks the inbox item read.
import { consume } from '../../shared/consume';
import { notFound } from '../../shared/domain-errors';
import { topics } from '../events';
import { system } from '../system';
import { applyReport } from '../deliveries';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = consume(
  { name: 'notification-updates-consumer', system, topics: [topics.updates], summary: 'Apply provider delivery reports and read receipts: forward-only status, failover on undelivered' },
  {
    'com.medlab.notification.delivery-reported': (r, { tx, emit }) => applyReport(tx, emit, {
      deliveryId: r.deliveryId, status: r.status, at: new Date(r.at), errorCode: r.errorCode, provider: r.provider, providerMessageId: r.providerMessageId,
      // One row per report: the provider's message and the status it reported (a callback sent twice is one).
      source: `provider:${r.provider}:${r.providerMessageId ?? r.deliveryId}`,
    }),
    'com.medlab.notification.read': async (read, { tx, emit }) => {
      const delivery = await tx.delivery.findUnique({ where: { id: read.deliveryId }, select: { notificationId: true, channel: true, notification: { select: { patientId: true } } } });
      // Another patient's delivery answers as one that does not exist.
      if (!delivery || delivery.notificationId !== read.notificationId || delivery.notification.patientId !== read.patientId) throw notFound('deliveryId');
      const at = new Date(read.at);
      const applied = await applyReport(tx, emit, { deliveryId: read.deliveryId, status: 'read', at, source: 'patient' });
      if (delivery.channel === 'in-app') await tx.inboxItem.updateMany({ where: { notificationId: read.notificationId, readAt: null }, data: { readAt: at } });
      return applied;
    },
  },
);
