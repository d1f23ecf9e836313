import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, call, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { keepLetter, keepMany } from '../../../test/support/dead-letters';

const DEST = 'http://booking-consumer.patient-portal.svc.cluster.local';
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const daysAgo = (d: number) => minutesAgo(d * 24 * 60);

describe('dead-letter-cron (PingSources every minute and every morning)', () => {
  let cron: RunningFunction;
  before(async () => { cron = await startFunction(fn); });
  after(async () => cron.close());
  beforeEach(resetDatabase);

  /** What the PingSource sends: a dev.knative.sources.ping CloudEvent with its data. */
  const ping = (job: string) => call(cron.url, {
    method: 'POST', raw: JSON.stringify({ job }),
    headers: { 'ce-specversion': '1.0', 'ce-id': crypto.randomUUID(), 'ce-source': '/apis/v1/namespaces/patient-portal/pingsources/dead-letter-cron-minute', 'ce-type': 'dev.knative.sources.ping', 'content-type': 'application/json' },
  });
  const alertsRaised = async () => (await published('dead-letter-events')).filter((e) => e.type === 'com.medlab.dead-letter.alert-raised').map((e) => e.data);
  /** As if the condition had last alerted longer ago than repeatMinutes (60 in policy.yaml). */
  const repeatWindowPassed = () => db().$executeRaw`UPDATE dead_letter.alert SET raised_at = now() - interval '61 minutes'`;

  describe('every minute', () => {
    it('queues the retries that are due (once each), not the early ones, and queues again one left retrying too long', async () => {
      const due = await keepLetter({ dest: DEST, nextRetryAt: minutesAgo(1) });
      const dueThird = await keepLetter({ dest: DEST, nextRetryAt: minutesAgo(0.1), retries: 2 });
      const early = await keepLetter({ dest: DEST, nextRetryAt: new Date(Date.now() + 60_000) });
      const parked = await keepLetter({ dest: DEST, status: 'parked' });
      const inFlight = await keepLetter({ dest: DEST, status: 'retrying', nextRetryAt: minutesAgo(2), statusAt: minutesAgo(2) });
      const lost = await keepLetter({ dest: DEST, status: 'retrying', nextRetryAt: minutesAgo(20), statusAt: minutesAgo(16), retries: 1 });

      const res = await ping('minute');
      assert.equal(res.status, 200);
      assert.equal(res.body.queued, 3);
      const queued = (await published('dead-letter-retries')).map((e) => [e.type, e.key, e.data.letterId, e.data.retry]);
      assert.deepEqual(queued.sort(), [
        ['com.medlab.dead-letter.retry-due', due.id, due.id, 1],
        ['com.medlab.dead-letter.retry-due', dueThird.id, dueThird.id, 3],
        ['com.medlab.dead-letter.retry-due', lost.id, lost.id, 2],
      ].sort());
      for (const l of [due, dueThird, lost]) {
        const after = await db().deadLetter.findUniqueOrThrow({ where: { id: l.id } });
        assert.equal(after.status, 'retrying');
        assert.equal(after.statusBy, 'dead-letter-cron');
      }
      assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: early.id } })).status, 'open');
      assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: parked.id } })).status, 'parked');
      assert.equal((await db().deadLetter.findUniqueOrThrow({ where: { id: inFlight.id } })).status, 'retrying');

      const again = await ping('minute');
      assert.equal(again.body.queued, 0, 'a queued retry is not queued again the next minute');
      assert.equal((await published('dead-letter-retries')).length, 3);
    });

    it('a hand-run POST with no body does the minute job; with {"job":"daily"} the daily one', async () => {
      await keepLetter({ dest: DEST, nextRetryAt: minutesAgo(1) });
      const res = await call(cron.url, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.equal(res.body.job, 'minute');
      assert.equal(res.body.queued, 1);
      const daily = await call(cron.url, { method: 'POST', body: { job: 'daily' } });
      assert.equal(daily.body.job, 'daily', 'a hand-run POST says which job');
    });

    it('an event from a results topic waiting 15 minutes alerts at once (critical), once within repeatMinutes', async () => {
      await keepMany(2, { fingerprint: 'result5', topic: 'patient-results', minutesAgo: 16, system: 'patient-booking' });
      await keepMany(3, { fingerprint: 'result-new', topic: 'patient-results', minutesAgo: 5 });
      await keepMany(1, { fingerprint: 'result-done', topic: 'patient-results', minutesAgo: 30, status: 'resolved' });
      await keepMany(1, { fingerprint: 'booking-old', topic: 'booking-requests', minutesAgo: 30 });

      await ping('minute');
      const [alert, ...more] = await alertsRaised();
      assert.deepEqual(more, []);
      assert.equal(alert.kind, 'results-waiting');
      assert.equal(alert.severity, 'critical');
      assert.equal(alert.fingerprint, 'result5');
      assert.equal(alert.count, 2);
      assert.equal(alert.system, 'patient-booking');
      assert.equal(alert.runbook, 'README#runbook-results-waiting');
      const [notice] = (await published('notification-requests')).map((e) => e.data);
      assert.equal(notice.critical, true);
      assert.equal(notice.template, 'dead-letter-alert');
      assert.equal(notice.variables.console, '/dead-letters?group=result5');

      await ping('minute');
      assert.equal((await alertsRaised()).length, 1, 'the same condition within repeatMinutes stays quiet');
      await repeatWindowPassed();
      await ping('minute');
      assert.equal((await alertsRaised()).length, 2, 'still waiting after repeatMinutes: told again');
    });

    it('a group\'s spike (at least 20 in 15 minutes, 5 times its usual rate) alerts, once within repeatMinutes', async () => {
      await keepMany(20, { fingerprint: 'spiking', minutesAgo: 3 });
      await keepMany(19, { fingerprint: 'too-few', minutesAgo: 3 });
      // 240 in the six hours before: 10 per window usually, so 30 now is only 3 times that.
      await keepMany(30, { fingerprint: 'always-busy', minutesAgo: 3 });
      await keepMany(240, { fingerprint: 'always-busy', minutesAgo: 120 });

      await ping('minute');
      const alerts = await alertsRaised();
      assert.deepEqual(alerts.map((a) => [a.kind, a.fingerprint, a.count, a.runbook]), [['volume-spike', 'spiking', 20, 'README#runbook-volume-spike']]);
      await keepMany(5, { fingerprint: 'spiking', minutesAgo: 1 });
      await ping('minute');
      assert.equal((await alertsRaised()).length, 1);
      await repeatWindowPassed();
      await ping('minute');
      assert.equal((await alertsRaised()).length, 2);
    });

    it('the oldest letter still waiting past the threshold (240 min) alerts, once within repeatMinutes; parked ones do not count', async () => {
      await keepMany(3, { fingerprint: 'parked-long', minutesAgo: 600, status: 'parked' });
      await ping('minute');
      assert.deepEqual(await alertsRaised(), []);

      await keepMany(1, { fingerprint: 'stuck', minutesAgo: 250, status: 'open' });
      await keepMany(1, { fingerprint: 'stuck', minutesAgo: 245, status: 'retrying' });
      await keepMany(1, { fingerprint: 'recent', minutesAgo: 10, status: 'open' });
      await ping('minute');
      const [alert, ...more] = await alertsRaised();
      assert.deepEqual(more, []);
      assert.equal(alert.kind, 'oldest-unresolved');
      assert.equal(alert.oldestMinutes, 250);
      assert.equal(alert.count, 2);
      assert.equal(alert.runbook, 'README#runbook-oldest-unresolved');
      await ping('minute');
      assert.equal((await alertsRaised()).length, 1);
      assert.equal((await published('notification-requests')).length, 1);
    });
  });

  describe('every morning', () => {
    it('removes only what retention says: resolved and discarded after 4 days, parked after 14, never open letters; who saw their data stays on record', async () => {
      const keep = (status: 'resolved' | 'discarded' | 'parked' | 'open', days: number) => keepLetter({ dest: DEST, status, statusAt: daysAgo(days), receivedAt: daysAgo(days + 1), nextRetryAt: null });
      const gone = [await keep('resolved', 5), await keep('discarded', 5), await keep('parked', 15)];
      await db().deadLetterView.create({ data: { letterId: gone[0].id, viewer: 'staff:ops-1' } });
      const kept = [await keep('resolved', 3), await keep('discarded', 3), await keep('parked', 13), await keep('open', 30)];

      const res = await ping('daily');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.removed, { resolved: 1, discarded: 1, parked: 1, alerts: 0 });
      const left = (await db().deadLetter.findMany({ select: { id: true } })).map((l) => l.id).sort();
      assert.deepEqual(left, kept.map((l) => l.id).sort());
      assert.equal(await db().deadLetterAttempt.count({ where: { letterId: { in: gone.map((l) => l.id) } } }), 0, 'their history went with them');
      assert.equal(await db().deadLetterView.count({ where: { letterId: gone[0].id } }), 1, 'the record of an unmasked view outlives the letter');
    });

    it('reports yesterday (in Ho Chi Minh City) once: received, resolved, parked, discarded, by system, top groups, what still waits', async () => {
      // Noon yesterday in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
      const local = new Date(Date.now() + 7 * 3600_000);
      const day = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() - 1)).toISOString().slice(0, 10);
      const noon = new Date(`${day}T12:00:00+07:00`);
      await keepLetter({ dest: DEST, fingerprint: 'aaaa', receivedAt: noon, statusAt: noon, status: 'parked' });
      await keepLetter({ dest: DEST, fingerprint: 'aaaa', receivedAt: noon, statusAt: noon, status: 'resolved' });
      await keepLetter({ dest: DEST, fingerprint: 'bbbb', receivedAt: noon, system: 'patient-booking', eventType: 'com.medlab.result.released' });
      await keepLetter({ dest: DEST, fingerprint: 'cccc', receivedAt: daysAgo(3), statusAt: noon, status: 'discarded' });
      await keepLetter({ dest: DEST, fingerprint: 'cccc' }); // today: still waiting, not received yesterday

      const res = await ping('daily');
      assert.deepEqual(res.body.report, { day, sent: true });
      const [report] = (await published('dead-letter-events')).filter((e) => e.type === 'com.medlab.dead-letter.daily-report');
      assert.equal(report.key, day);
      assert.equal(report.data.day, day);
      assert.deepEqual([report.data.received, report.data.resolved, report.data.parked, report.data.discarded, report.data.open], [3, 1, 1, 1, 3]);
      assert.ok(report.data.oldestOpenMinutes >= 12 * 60);
      assert.deepEqual(report.data.bySystem, [{ system: 'booking-queue', received: 2, open: 2 }, { system: 'patient-booking', received: 1, open: 1 }]);
      assert.deepEqual(report.data.topGroups.map((g: { fingerprint: string; count: number }) => [g.fingerprint, g.count]), [['aaaa', 2], ['bbbb', 1]]);
      const [notice] = (await published('notification-requests')).map((e) => e.data);
      assert.equal(notice.template, 'dead-letter-daily-report');
      assert.deepEqual(notice.recipient, { kind: 'operators', team: 'platform' });
      assert.deepEqual([notice.variables.day, notice.variables.received, notice.variables.open], [day, 3, 3]);

      const again = await ping('daily');
      assert.deepEqual(again.body.report, { day, sent: false });
      assert.equal((await published('dead-letter-events')).filter((e) => e.type === 'com.medlab.dead-letter.daily-report').length, 1);
    });
  });

  it('refuses a job it does not know, naming the field', async () => {
    const res = await ping('weekly');
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'body/job');
  });
});
