// A patient reads their in-app inbox in the portal: their own items only, newest first, a page at a time
// (a keyset cursor, so notices arriving meanwhile never repeat or skip an item), unread only or the archive.
import { route, ok } from '../../shared/http';
import { inboxItemView } from '../inbox';
import { after, pageOf, positionOf } from '../../shared/paging';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'notification-inbox', system, method: 'GET', path: '/api/notifications/inbox',
    summary: 'The patient\'s in-app inbox, newest first, a page at a time', auth: ['patient'], query,
    responses: { 200: { description: 'a page of items and the cursor of the next (null on the last page)', schema: view } },
    refuses: { invalid: 'a cursor this inbox did not give' },
  },
  async ({ query, caller, db }) => {
    const rows = await db.inboxItem.findMany({
      where: {
        patientId: caller.patientId,
        archivedAt: query.archived ? { not: null } : null,
        ...(query.unread ? { readAt: null } : {}),
        ...(query.cursor ? after(positionOf(query.cursor)) : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const { shown, nextCursor } = pageOf(rows, query.limit);
    return ok({ items: shown.map(inboxItemView), nextCursor });
  },
);
