// The in-app inbox as the patient's routes read it: an item's view, and the badge counts. The counts read
// only the partial index of unread items (read_at IS NULL AND archived_at IS NULL), so a patient with years
// of read notices pays for the few they have not read.
import { tableOf, type Db, type Tx } from '../shared/db';
import type { InboxItem } from '../shared/generated/prisma/client';
import { system } from './system';

export const inboxItems = tableOf(system, 'inbox_item');

export function inboxItemView(item: InboxItem) {
  return {
    id: item.id, notificationId: item.notificationId, category: item.category, title: item.title, body: item.body, link: item.link ?? null,
    createdAt: item.createdAt.toISOString(), seenAt: item.seenAt?.toISOString() ?? null, readAt: item.readAt?.toISOString() ?? null,
    archivedAt: item.archivedAt?.toISOString() ?? null,
  };
}

export async function countsOf(db: Db | Tx, patientId: string): Promise<{ unread: number; unseen: number }> {
  const [row] = await db.$queryRaw<Array<{ unread: number; unseen: number }>>`
    SELECT count(*)::int AS unread, (count(*) FILTER (WHERE seen_at IS NULL))::int AS unseen
    FROM ${inboxItems} WHERE patient_id = ${patientId} AND read_at IS NULL AND archived_at IS NULL`;
  return { unread: row?.unread ?? 0, unseen: row?.unseen ?? 0 };
}

