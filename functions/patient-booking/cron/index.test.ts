import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { call, published, resetDatabase, startFunction, type RunningFunction } from '../../../test/support/fixtures';
import { seedPatient } from '../../../test/support/results';
import { placeBooking } from '../../../test/support/package-bookings';

const NOW = new Date('2026-12-08T03:00:00Z');
const DAY = 86_400_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('patient-booking-cron (PingSources every minute and every night)', () => {
  let cron: RunningFunction;
  before(async () => { cron = await startFunction(fn); });
  after(async () => cron.close());
  beforeEach(async () => { await resetDatabase(); await seedPatient('P-1'); });

  const ping = (job: string, now = NOW) => call(cron.url, { method: 'POST', raw: JSON.stringify({ job, now: now.toISOString() }), headers: { 'content-type': 'application/json' } });
  const report = (accession: string, over: Record<string, unknown>) => db().diagnosticReport.create({
    data: { patientId: 'P-1', accession, code: 'HIVAGAB', lane: 'standard', status: 'final', receivedAt: ago(3 * DAY), contentHash: accession, ...over },
  });

  it('two runs at once release each due sensitive report once; critical, not yet due and pending reports stay', async () => {
    for (let i = 0; i < 5; i++) await report(`DUE-${i}`, { releaseState: 'held', releaseDueAt: ago(60_000) });
    const critical = await report('CRIT', { releaseState: 'held', critical: true, releaseDueAt: ago(60_000) });
    const later = await report('LATER', { releaseState: 'held', releaseDueAt: new Date(NOW.getTime() + 60_000) });
    const pending = await report('PENDING', { releaseState: 'pending', status: 'preliminary' });
    const [a, b] = await Promise.all([ping('minute'), ping('minute')]);
    assert.equal(a.body.autoReleased + b.body.autoReleased, 5);
    assert.equal((await published('result-events')).length, 5);
    assert.equal(await db().resultAudit.count({ where: { action: 'auto-released', actor: 'system:patient-booking-cron' } }), 5);
    for (const r of [critical, later]) assert.equal((await db().diagnosticReport.findUniqueOrThrow({ where: { id: r.id } })).releaseState, 'held');
    assert.equal((await db().diagnosticReport.findUniqueOrThrow({ where: { id: pending.id } })).releaseState, 'pending');
  });

  it('a package booking a day away is reminded once (two runs at once), in the branch\'s time; one booked within the day, a cancelled one and one further ahead are not', async () => {
    const booking = (startsIn: number, bookedAgo: number, status: 'confirmed' | 'cancelled' = 'confirmed') =>
      placeBooking({ patientId: 'P-1', status, startsAt: new Date(NOW.getTime() + startsIn), createdAt: ago(bookedAgo) });
    const HOUR = 3_600_000;
    const due = await booking(20 * HOUR, 3 * DAY);
    await booking(20 * HOUR, 2 * HOUR);
    await booking(20 * HOUR, 3 * DAY, 'cancelled');
    const later = await booking(30 * HOUR, 3 * DAY);
    const [a, b] = await Promise.all([ping('minute'), ping('minute')]);
    assert.equal(a.body.reminded + b.body.reminded, 1);
    const requests = (await published('notification-requests')).filter((e) => e.data.template === 'booking-reminder');
    assert.deepEqual(requests.map((e) => e.data.variables.bookingId), [due.id]);
    // 03:00Z + 20 h is 23:00Z: 06:00 the next morning on the branch's clock (Asia/Ho_Chi_Minh, UTC+7).
    assert.deepEqual([requests[0].data.variables.localDate, requests[0].data.variables.localTime, requests[0].data.category], ['2026-12-09', '06:00', 'reminder']);
    assert.equal(requests[0].data.recipient.patientId, 'P-1');
    // A day later the further booking's turn comes; the reminded one is not reminded again.
    const next = await ping('minute', new Date(NOW.getTime() + 10 * HOUR));
    assert.equal(next.body.reminded, 1);
    assert.deepEqual((await published('notification-requests')).filter((e) => e.data.template === 'booking-reminder').map((e) => e.data.variables.bookingId).sort(), [due.id, later.id].sort());
  });

  it('nightly: HL7 control ids and handled events past 30 days, outbox rows published over 7 days ago go; unpublished rows and reports stay', async () => {
    await db().resultHl7Message.createMany({ data: [{ sender: 'LIS|X', controlId: 'old', type: 'ORU^R01', receivedAt: ago(31 * DAY) }, { sender: 'LIS|X', controlId: 'new', type: 'ORU^R01', receivedAt: ago(29 * DAY) }] });
    await db().patientBookingInboxEvent.createMany({ data: [{ source: 's', id: 'old', consumer: 'c', type: 't', processedAt: ago(31 * DAY) }, { source: 's', id: 'new', consumer: 'c', type: 't', processedAt: ago(1 * DAY) }] });
    const row = (id: string, publishedAt: Date | null) => ({ id, topic: 'result-events', key: 'P-1', type: 'com.medlab.result.released', source: '/t', data: {}, publishedAt, time: ago(30 * DAY) });
    await db().patientBookingOutboxEvent.createMany({ data: [row(crypto.randomUUID(), ago(8 * DAY)), row(crypto.randomUUID(), ago(6 * DAY)), row(crypto.randomUUID(), null)] });
    await report('KEPT', { releaseState: 'released', receivedAt: ago(400 * DAY) });
    const res = await ping('daily');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.removed, { hl7Messages: 1, inbox: 1, outbox: 1, idempotencyRecords: 0 });
    assert.deepEqual((await db().resultHl7Message.findMany()).map((m) => m.controlId), ['new']);
    assert.equal(await db().patientBookingOutboxEvent.count({ where: { publishedAt: null } }), 1);
    assert.equal(await db().diagnosticReport.count(), 1);
  });

  it('an unknown job is a 400 naming it', async () => {
    const res = await ping('weekly');
    assert.deepEqual([res.status, res.body['invalid-params'][0].name], [400, 'body/job']);
  });
});
