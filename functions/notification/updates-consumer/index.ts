// Provider callbacks and read receipts (notification-updates, key deliveryId), applied in order per delivery:
// a status only moves forward whatever order and however often reports come (the same report twice is one
// history row), delivery-changed goes out on a real change, a provider's undelivered or failed hands over to
// the next channel as the sender does, and a read marks the inbox item read.
import { consume, DUPLICATE } from '../../shared/consume';
import type { EventData } from '../../shared/system';
import { notFound } from '../../shared/domain-errors';
import { events, topics } from '../events';
import { system } from '../system';
import { applyReport, applyReportAtOnce, type Report } from '../deliveries';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-updates-consumer';
const SOURCE = `/${system.name}/${NAME}`;

const reportOf = (r: EventData<typeof events, 'com.medlab.notification.delivery-reported'>): Report => ({
  deliveryId: r.deliveryId, status: r.status, at: new Date(r.at), errorCode: r.errorCode, provider: r.provider, providerMessageId: r.providerMessageId,
  // One row per report: the provider's message and the status it reported (a callback sent twice is one).
  source: `provider:${r.provider}:${r.providerMessageId ?? r.deliveryId}`,
});

export const handle = consume(
  { name: NAME, system, topics: [topics.updates], summary: 'Apply provider delivery reports and read receipts: forward-only status, failover on undelivered' },
  {
    'com.medlab.notification.delivery-reported': {
      // Most reports move a status forward (or repeat one): one statement; a failure, which fails over, a transaction.
      atOnce: async (r, { inbox }) => {
        const applied = await applyReportAtOnce(inbox, reportOf(r), SOURCE);
        return applied === 'seen' ? DUPLICATE : applied;
      },
      inTransaction: (r, { tx, emit }) => applyReport(tx, emit, reportOf(r)),
    },
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
