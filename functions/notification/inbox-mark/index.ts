// A patient marks inbox items read, seen, archived or back in the inbox: some by id, or all at once. Only
// their own items (another patient's answers like a missing one, and nothing changes). Each item newly read
// sends one read receipt to its delivery (com.medlab.notification.read on notification-updates), committed
// with the change: an item already read changes nothing and sends nothing, however often it is marked.
import { route, ok } from '../../shared/http';
import { invalid, notFound } from '../../shared/domain-errors';
import { Prisma } from '../../shared/db';
import { countsOf, inboxItems } from '../inbox';
import { system } from '../system';
import { body, view, type actions } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

type Action = (typeof actions)[number];

/** What each action sets, and which items it applies to (those not yet in that state). */
const ACTIONS: Record<Action, { set: Prisma.Sql; pending: Prisma.Sql; all: Prisma.Sql }> = {
  read: { set: Prisma.sql`read_at = now(), seen_at = COALESCE(seen_at, now())`, pending: Prisma.sql`read_at IS NULL`, all: Prisma.sql`archived_at IS NULL` },
  seen: { set: Prisma.sql`seen_at = now()`, pending: Prisma.sql`seen_at IS NULL`, all: Prisma.sql`archived_at IS NULL` },
  archive: { set: Prisma.sql`archived_at = now()`, pending: Prisma.sql`archived_at IS NULL`, all: Prisma.sql`TRUE` },
  unarchive: { set: Prisma.sql`archived_at = NULL`, pending: Prisma.sql`archived_at IS NOT NULL`, all: Prisma.sql`TRUE` },
};

export const handle = route(
  {
    name: 'notification-inbox-mark', system, method: 'POST', path: '/api/notifications/inbox/mark',
    summary: 'Mark inbox items read (with a read receipt), seen, archived or unarchived', auth: ['patient'], body,
    responses: { 200: { description: 'the items changed and the badge afterwards', schema: view } },
    refuses: { 'not-found': 'an item that is not the patient\'s (or does not exist): nothing is changed', invalid: 'neither itemIds nor all: true, or both' },
  },
  async ({ body, caller, transaction }) => {
    if (!body.itemIds === !body.all) throw invalid('give itemIds, or all: true (not both)', 'itemIds');
    const action = ACTIONS[body.action];
    const patientId = caller.patientId;
    return transaction(async (tx, emit) => {
      if (body.itemIds) {
        const mine = await tx.inboxItem.count({ where: { id: { in: [...body.itemIds] }, patientId } });
        if (mine !== body.itemIds.length) throw notFound('itemIds', 'no such inbox item');
      }
      const chosen = body.itemIds ? Prisma.sql`id = ANY(${body.itemIds}::uuid[])` : action.all;
      // The row lock each UPDATE takes makes a second request that marks the same item wait, and then find it
      // no longer pending: a receipt is sent once however many requests race.
      const changed = await tx.$queryRaw<Array<{ id: string; notificationId: string; deliveryId: string; readAt: Date | null }>>`
        UPDATE ${inboxItems} SET ${action.set}
        WHERE patient_id = ${patientId} AND ${chosen} AND ${action.pending}
        RETURNING id::text AS id, notification_id::text AS "notificationId", delivery_id::text AS "deliveryId", read_at AS "readAt"`;
      if (body.action === 'read') {
        for (const item of changed) {
          await emit('com.medlab.notification.read', {
            deliveryId: item.deliveryId, notificationId: item.notificationId, patientId, channel: 'in-app', at: item.readAt!.toISOString(),
          });
        }
      }
      return ok({ updated: changed.map((c) => c.id), counts: await countsOf(tx, patientId) });
    });
  },
);
