import { strict as assert } from 'node:assert';
import * as fn from './index';
import * as cronFn from '../cron/index';
import { db } from '../../shared/db';
import { setIntakeClock } from '../intake/clock';
import { verifyLink } from '../links';
import { startFunction, call, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';

const RELEASED = 'com.medlab.result.released';
const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
/** 09:00 in Ho Chi Minh City: the morning the lab releases the night's work. */
const T = new Date('2026-12-08T02:00:00Z');

const report = (reportId: string, releasedAt: Date, over: Record<string, unknown> = {}) => ({
  reportId, patientId: 'patient-1', accession: 'ACC-100', status: 'final', releasedAt: releasedAt.toISOString(), ...over,
});

describe('notification-results-consumer (result-events → one notice per visit)', () => {
  let consumer: RunningFunction;
  let cron: RunningFunction;
  before(async () => { consumer = await startFunction(fn); cron = await startFunction(cronFn); });
  after(async () => { setIntakeClock(undefined); await consumer.close(); await cron.close(); });
  beforeEach(async () => {
    await resetDatabase();
    setIntakeClock(at(T, 1));
    await db().contactPoint.create({ data: { patientId: 'patient-1', email: 'an@example.com', phone: '+84901234567', crmVersion: 1 } });
    await db().pushSubscription.create({ data: { patientId: 'patient-1', endpoint: 'https://push.example/1', p256dh: 'k', auth: 'a' } });
  });

  const release = async (data: Record<string, unknown>, id?: string) => {
    const res = await deliver(consumer.url, { type: RELEASED, data, id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res;
  };
  const minute = (now: Date) => call(cron.url, { method: 'POST', raw: JSON.stringify({ job: 'minute', now: now.toISOString() }), headers: { 'content-type': 'application/json' } });
  const notices = () => db().notification.findMany({ include: { deliveries: true }, orderBy: { createdAt: 'asc' } });
  const due = async () => (await published('notification-deliveries')).map((e) => e.data);

  it('three reports of one accession within the window make one notice, sent when the window ends (the cron flushes it)', async () => {
    await release(report('rep-1', T));
    await release(report('rep-2', at(T, 2)));
    await release(report('rep-3', at(T, 5)));
    const [n, ...more] = await notices();
    assert.deepEqual(more, []);
    assert.deepEqual([n.template, n.status, n.sendAt.toISOString(), n.groupKey, n.category, n.deliveries], ['results-ready', 'pending', at(T, 10).toISOString(), 'results:patient-1:ACC-100', 'results', []]);
    // Counted, never named: the variables hold the accession, the count, release hashes and the link only.
    const v = n.variables as Record<string, unknown>;
    assert.deepEqual(Object.keys(v).sort(), ['accession', 'link', 'releases', 'reports']);
    assert.equal(v.reports, 3);
    assert.deepEqual(await due(), []);

    assert.equal((await minute(at(T, 9))).body.notifications.dispatched, 0);
    assert.equal((await minute(at(T, 10))).body.notifications.dispatched, 1);
    const [sent] = await notices();
    assert.deepEqual([sent.status, sent.channels], ['dispatched', ['in-app', 'push', 'sms', 'email']]);
    assert.deepEqual((await due()).map((e) => e.channel), ['push'], 'the inbox item is written as the notice goes; push is the sender\'s');
    assert.equal(await db().inboxItem.count({ where: { notificationId: sent.id } }), 1);
    assert.equal((await minute(at(T, 11))).body.notifications.dispatched, 0, 'a second run sends nothing again');
  });

  it('reports of one accession taken at the same moment (the visit\'s lock) make one notice that counts them all', async () => {
    await Promise.all(['rep-1', 'rep-2', 'rep-3', 'rep-4'].map((id, i) => release(report(id, at(T, i)))));
    const [n, ...more] = await notices();
    assert.deepEqual(more, [], 'one notice for the visit');
    assert.equal((n.variables as Record<string, unknown>).reports, 4);
  });

  it('the notice links into the portal with a signature that verifies and expires after 7 days', async () => {
    await release(report('rep-1', T));
    const [n] = await notices();
    const link = String((n.variables as Record<string, unknown>).link);
    assert.match(link, /^https:\/\/portal\.medlab\.example\/results\?accession=ACC-100&n=[0-9a-f-]{36}&exp=\d+&sig=/);
    assert.deepEqual(verifyLink(link, at(T, 10)), { ok: true, accession: 'ACC-100', notificationId: n.id, expiresAt: at(T, 10 + 7 * 24 * 60) });
    assert.deepEqual(verifyLink(link, at(T, 10 + 7 * 24 * 60)), { ok: false, reason: 'expired' });
  });

  it('an amended report after the notice went makes one "results updated" (a correction in its window joins it); one within the window just joins the first', async () => {
    await release(report('rep-1', T));
    await release(report('rep-1', at(T, 3), { status: 'amended' }));
    await minute(at(T, 10));
    assert.deepEqual((await notices()).map((n) => [n.template, (n.variables as Record<string, unknown>).reports]), [['results-ready', 2]]);

    const later = at(T, 120);
    setIntakeClock(later);
    await release(report('rep-1', later, { status: 'amended' }));
    await release(report('rep-2', at(later, 4), { status: 'corrected' }));
    const updated = (await notices()).filter((n) => n.template === 'results-updated');
    assert.deepEqual(updated.map((n) => [n.status, n.sendAt.toISOString(), (n.variables as Record<string, unknown>).reports, n.groupKey]), [['pending', at(later, 10).toISOString(), 2, 'results:patient-1:ACC-100']]);
    await minute(at(later, 10));
    assert.deepEqual((await notices()).map((n) => [n.template, n.status]), [['results-ready', 'dispatched'], ['results-updated', 'dispatched']]);
  });

  it('a window closing inside quiet hours waits for the morning', async () => {
    const evening = new Date('2026-12-08T13:55:00Z'); // 20:55 in Ho Chi Minh City: the window closes at 21:05
    setIntakeClock(evening);
    await release(report('rep-1', evening));
    const flush = await minute(at(evening, 10));
    assert.deepEqual([flush.body.notifications.dispatched, flush.body.notifications.pending], [0, 1]);
    const [n] = await notices();
    assert.deepEqual([n.status, n.sendAt.toISOString()], ['pending', '2026-12-09T00:00:00.000Z']);
    assert.equal((await minute(new Date('2026-12-09T00:00:00Z'))).body.notifications.dispatched, 1);
  });

  it('a critical report makes "please call the clinic" at once, past the window and quiet hours', async () => {
    const night = new Date('2026-12-08T16:30:00Z'); // 23:30 in Ho Chi Minh City
    setIntakeClock(night);
    const res = await release(report('rep-9', night, { critical: true }));
    assert.equal(res.body.result.status, 'dispatched');
    const [n] = await notices();
    assert.deepEqual([n.template, n.critical, n.status, n.deliveries.length], ['results-call-clinic', true, 'dispatched', 2]);
    assert.equal((await due()).length, 1);
  });

  it('a report delivered again under another event id counts once; an unknown patient is refused naming data/patientId', async () => {
    const data = report('rep-1', T);
    await release(data, 'ce-1');
    const again = await release(data, 'ce-2');
    assert.equal(again.body.status, 'duplicate');
    await minute(at(T, 10));
    const third = await release(data, 'ce-3');
    assert.equal(third.body.status, 'duplicate', 'after the notice went, the same release still makes nothing new');
    assert.deepEqual((await notices()).map((n) => (n.variables as Record<string, unknown>).reports), [1]);

    const unknown = await deliver(consumer.url, { type: RELEASED, data: report('rep-x', T, { patientId: 'patient-unknown' }) });
    assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [422, 'data/patientId']);
  });
});
