// Staff (and other systems) look up what a patient was told and how it went: each notification's template,
// category and plan, and per channel its status, attempts, last error and every status reported, newest
// first a page at a time. Any branch's staff may (notifications belong to no branch), and they see nothing
// they do not need: no address, no message text, no variables.
import { route, ok } from '../../shared/http';
import { after, pageOf, positionOf } from '../../shared/paging';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'notification-history', system, method: 'GET', path: '/api/notifications/history',
    summary: 'A patient\'s notifications with each delivery\'s status history (staff)', auth: ['staff', 'service'], query,
    responses: { 200: { description: 'a page of notifications and the cursor of the next (null on the last page)', schema: view } },
    refuses: { invalid: 'a cursor this history did not give' },
  },
  async ({ query, db }) => {
    const rows = await db.notification.findMany({
      where: { patientId: query.patientId, ...(query.cursor ? after(positionOf(query.cursor)) : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      select: {
        id: true, template: true, category: true, critical: true, status: true, channels: true, sendAt: true, createdAt: true,
        deliveries: {
          orderBy: [{ createdAt: 'asc' }, { channel: 'asc' }],
          select: {
            id: true, channel: true, status: true, statusAt: true, attempts: true, lastError: true, provider: true, createdAt: true,
            history: { orderBy: [{ at: 'asc' }, { id: 'asc' }], select: { status: true, at: true, source: true, errorCode: true } },
          },
        },
      },
    });
    const { shown, nextCursor } = pageOf(rows, query.limit);
    return ok({
      patientId: query.patientId,
      notifications: shown.map((n) => ({
        notificationId: n.id, template: n.template, category: n.category, critical: n.critical, status: n.status, channels: n.channels,
        sendAt: n.sendAt.toISOString(), createdAt: n.createdAt.toISOString(),
        deliveries: n.deliveries.map((d) => ({
          deliveryId: d.id, channel: d.channel, status: d.status, statusAt: d.statusAt.toISOString(), attempts: d.attempts,
          lastError: d.lastError, provider: d.provider, createdAt: d.createdAt.toISOString(),
          history: d.history.map((h) => ({ status: h.status, at: h.at.toISOString(), source: h.source, errorCode: h.errorCode })),
        })),
      })),
      nextCursor,
    });
  },
);
