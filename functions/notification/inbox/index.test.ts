import { strict as assert } from 'node:assert';
import * as inbox from './index';
import { resetDatabase, startFunction, call, patientToken, staffToken, type RunningFunction } from '../../../test/support/fixtures';
import { createNotice, inboxOf } from '../../../test/support/notification-api';

describe('notification-inbox (GET /api/notifications/inbox)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(inbox); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  it('a patient sees only their own items, newest first, with every field the portal shows', async () => {
    const mine = await inboxOf('p-1', 3);
    await inboxOf('p-2', 2);
    const res = await call(fn.url, { token: patientToken('p-1') });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.items.map((i: { title: string }) => i.title), ['notice 2', 'notice 1', 'notice 0']);
    assert.equal(res.body.nextCursor, null);
    const [newest] = res.body.items;
    assert.deepEqual(Object.keys(newest).sort(), ['archivedAt', 'body', 'category', 'createdAt', 'id', 'link', 'notificationId', 'readAt', 'seenAt', 'title']);
    assert.deepEqual([newest.id, newest.notificationId, newest.category, newest.readAt], [mine[2].item.id, mine[2].notification.id, 'results', null]);
  });

  it('pages with a cursor: no item repeated or skipped, even when a notice arrives between pages', async () => {
    await inboxOf('p-1', 7);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call(fn.url, { token: patientToken('p-1'), query: { limit: '3', ...(cursor ? { cursor } : {}) } });
      assert.equal(res.status, 200);
      seen.push(...res.body.items.map((i: { title: string }) => i.title));
      cursor = res.body.nextCursor ?? undefined;
      if (pages++ === 0) await createNotice({ patientId: 'p-1', inbox: { title: 'arrived meanwhile' } });
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['notice 6', 'notice 5', 'notice 4', 'notice 3', 'notice 2', 'notice 1', 'notice 0']);
  });

  it('items created in the same millisecond page in id order without a gap', async () => {
    const at = new Date();
    for (let i = 0; i < 5; i++) await createNotice({ patientId: 'p-1', createdAt: at });
    const first = await call(fn.url, { token: patientToken('p-1'), query: { limit: '2' } });
    const rest = await call(fn.url, { token: patientToken('p-1'), query: { limit: '10', cursor: first.body.nextCursor } });
    const ids = [...first.body.items, ...rest.body.items].map((i: { id: string }) => i.id);
    assert.equal(new Set(ids).size, 5);
  });

  it('filters: unread only; the archive apart from the inbox', async () => {
    await createNotice({ patientId: 'p-1', inbox: { title: 'read', readAt: new Date() } });
    await createNotice({ patientId: 'p-1', inbox: { title: 'unread' } });
    await createNotice({ patientId: 'p-1', inbox: { title: 'archived', archivedAt: new Date() } });
    const titles = async (query: Record<string, string>) => (await call(fn.url, { token: patientToken('p-1'), query })).body.items.map((i: { title: string }) => i.title).sort();
    assert.deepEqual(await titles({}), ['read', 'unread']);
    assert.deepEqual(await titles({ unread: 'true' }), ['unread']);
    assert.deepEqual(await titles({ archived: 'true' }), ['archived']);
  });

  it('a cursor it did not give is 400 naming query/cursor; staff and anonymous callers are refused', async () => {
    const bad = await call(fn.url, { token: patientToken('p-1'), query: { cursor: 'bm90LWEtY3Vyc29y' } });
    assert.deepEqual([bad.status, bad.body['invalid-params'][0].name], [400, 'query/cursor']);
    const limit = await call(fn.url, { token: patientToken('p-1'), query: { limit: '500' } });
    assert.deepEqual([limit.status, limit.body['invalid-params'][0].name], [400, 'query/limit']);
    assert.equal((await call(fn.url, { token: staffToken() })).status, 403);
    assert.equal((await call(fn.url, {})).status, 401);
  });
});
