import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as mark from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, published, type RunningFunction } from '../../../test/support/fixtures';
import { createNotice, inboxOf } from '../../../test/support/notification-api';

describe('notification-inbox-mark (POST /api/notifications/inbox/mark)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(mark); });
  after(async () => fn.close());
  beforeEach(async () => resetDatabase());

  const receipts = async () => (await published('notification-updates')).filter((e) => e.type === 'com.medlab.notification.read');

  it('reading an item marks it read and seen, sends one read receipt for its in-app delivery, and lowers the badge', async () => {
    const [a, b] = await inboxOf('p-1', 2);
    const res = await call(fn.url, { token: patientToken('p-1'), body: { action: 'read', itemIds: [a.item.id] } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { updated: [a.item.id], counts: { unread: 1, unseen: 1 } });
    const item = await db().inboxItem.findUniqueOrThrow({ where: { id: a.item.id } });
    assert.ok(item.readAt && item.seenAt);
    const [receipt, ...more] = await receipts();
    assert.equal(more.length, 0);
    assert.deepEqual(receipt.data, { deliveryId: a.deliveries[0].id, notificationId: a.notification.id, patientId: 'p-1', channel: 'in-app', at: item.readAt!.toISOString() });
    assert.equal(receipt.key, a.deliveries[0].id);
    assert.equal((await db().inboxItem.findUniqueOrThrow({ where: { id: b.item.id } })).readAt, null);
  });

  it('an item already read changes nothing and sends nothing, however often it is marked (and racing requests send one receipt)', async () => {
    const [a] = await inboxOf('p-1', 1);
    const answers = await Promise.all(Array.from({ length: 4 }, () => call(fn.url, { token: patientToken('p-1'), body: { action: 'read', itemIds: [a.item.id] } })));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(answers.filter((r) => r.body.updated.length === 1).length, 1);
    const firstRead = (await db().inboxItem.findUniqueOrThrow({ where: { id: a.item.id } })).readAt;
    const again = await call(fn.url, { token: patientToken('p-1'), body: { action: 'read', all: true } });
    assert.deepEqual(again.body.updated, []);
    assert.deepEqual((await db().inboxItem.findUniqueOrThrow({ where: { id: a.item.id } })).readAt, firstRead);
    assert.equal((await receipts()).length, 1);
  });

  it('all: true reads every unread item of the inbox (not the archive, not another patient\'s), a receipt each', async () => {
    const items = await inboxOf('p-1', 3);
    await createNotice({ patientId: 'p-1', inbox: { readAt: new Date(Date.now() - 60_000) } });
    const archived = await createNotice({ patientId: 'p-1', inbox: { archivedAt: new Date() } });
    const other = await createNotice({ patientId: 'p-2' });
    const res = await call(fn.url, { token: patientToken('p-1'), body: { action: 'read', all: true } });
    assert.deepEqual([...res.body.updated].sort(), items.map((i) => i.item.id).sort());
    assert.deepEqual(res.body.counts, { unread: 0, unseen: 0 });
    assert.deepEqual((await receipts()).map((r) => r.data.deliveryId).sort(), items.map((i) => i.deliveries[0].id).sort());
    assert.equal((await db().inboxItem.findUniqueOrThrow({ where: { id: archived.item.id } })).readAt, null);
    assert.equal((await db().inboxItem.findUniqueOrThrow({ where: { id: other.item.id } })).readAt, null);
  });

  it('seen clears the unseen badge without a receipt; archive and unarchive move items between inbox and archive', async () => {
    const [a, b] = await inboxOf('p-1', 2);
    const seen = await call(fn.url, { token: patientToken('p-1'), body: { action: 'seen', all: true } });
    assert.deepEqual(seen.body.counts, { unread: 2, unseen: 0 });
    assert.equal((await receipts()).length, 0);
    const archived = await call(fn.url, { token: patientToken('p-1'), body: { action: 'archive', itemIds: [a.item.id] } });
    assert.deepEqual([archived.body.updated, archived.body.counts], [[a.item.id], { unread: 1, unseen: 0 }]);
    const back = await call(fn.url, { token: patientToken('p-1'), body: { action: 'unarchive', all: true } });
    assert.deepEqual([back.body.updated, back.body.counts.unread], [[a.item.id], 2]);
    assert.equal((await db().inboxItem.findUniqueOrThrow({ where: { id: b.item.id } })).archivedAt, null);
  });

  it('another patient\'s item answers like a missing one, and nothing of the request is changed', async () => {
    const [mine] = await inboxOf('p-1', 1);
    const theirs = await createNotice({ patientId: 'p-2' });
    for (const itemIds of [[theirs.item.id], [mine.item.id, theirs.item.id], [randomUUID()]]) {
      const res = await call(fn.url, { token: patientToken('p-1'), body: { action: 'read', itemIds } });
      assert.deepEqual([res.status, res.body['invalid-params'][0].name], [404, 'body/itemIds']);
    }
    assert.equal(await db().inboxItem.count({ where: { readAt: { not: null } } }), 0);
    assert.equal((await receipts()).length, 0);
  });

  it('bad input is 400 naming the field; staff cannot mark a patient\'s inbox', async () => {
    for (const [body, field] of [
      [{ action: 'read' }, 'body/itemIds'], [{ action: 'read', all: true, itemIds: [randomUUID()] }, 'body/itemIds'],
      [{ action: 'burn', all: true }, 'body/action'], [{ action: 'read', itemIds: ['x'] }, 'body/itemIds.0'], [{ action: 'read', all: false }, 'body/all'],
    ] as const) {
      const res = await call(fn.url, { token: patientToken('p-1'), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body['invalid-params'][0].name, field, JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { token: staffToken(), body: { action: 'read', all: true } })).status, 403);
  });
});
