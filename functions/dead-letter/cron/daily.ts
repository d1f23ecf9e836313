// Every morning: yesterday in dead letters (received, resolved, parked, discarded, by system, the groups
// that brought most, and what still waits), told once per day on dead-letter-events and to the operators;
// and letters past their retention removed (resolved, discarded and parked, each after its own days counted
// from when it got that status), in batches so no statement holds the table for long.
import { db } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { letters, waiting } from '../letters';
import { policy } from '../policy';
import { claimAlertKey, consoleLink, alertTable } from '../alerts';
import { system } from '../system';

/** The day a report covers is a day in the clinics' time zone. */
const ZONE = 'Asia/Ho_Chi_Minh';
const DELETE_BATCH = 1000;

interface Totals { received: number; resolved: number; parked: number; discarded: number; open: number; oldestOpenMinutes: number | null }

export async function dailyReport(source: string): Promise<{ day: string; sent: boolean }> {
  return transaction(system, source, async (tx, emit) => {
    const [{ day, from, to }] = await tx.$queryRaw<Array<{ day: string; from: Date; to: Date }>>`
      SELECT d::text AS day, d::timestamp AT TIME ZONE ${ZONE} AS "from", (d + 1)::timestamp AT TIME ZONE ${ZONE} AS "to"
      FROM (SELECT (now() AT TIME ZONE ${ZONE})::date - 1 AS d) yesterday`;
    // Once per day, however often the job runs (a PingSource retry, a hand-run POST).
    if (!(await claimAlertKey(tx, `daily-report:${day}`, 2 * 24 * 60))) return { day, sent: false };

    const [totals] = await tx.$queryRaw<Totals[]>`
      SELECT
        count(*) FILTER (WHERE received_at >= ${from} AND received_at < ${to})::int AS received,
        count(*) FILTER (WHERE status = 'resolved' AND status_at >= ${from} AND status_at < ${to})::int AS resolved,
        count(*) FILTER (WHERE status = 'parked' AND status_at >= ${from} AND status_at < ${to})::int AS parked,
        count(*) FILTER (WHERE status = 'discarded' AND status_at >= ${from} AND status_at < ${to})::int AS discarded,
        count(*) FILTER (WHERE ${waiting()})::int AS open,
        floor(extract(epoch FROM now() - min(received_at) FILTER (WHERE ${waiting()})) / 60)::int AS "oldestOpenMinutes"
      FROM ${letters}`;
    const bySystem = await tx.$queryRaw<Array<{ system: string; received: number; open: number }>>`
      SELECT system, count(*) FILTER (WHERE received_at >= ${from} AND received_at < ${to})::int AS received,
        count(*) FILTER (WHERE ${waiting()})::int AS open
      FROM ${letters} WHERE (received_at >= ${from} AND received_at < ${to}) OR ${waiting()}
      GROUP BY system ORDER BY received DESC, open DESC, system LIMIT 100`;
    // Groups by type and consumer only: a reason may quote a patient's data.
    const topGroups = await tx.$queryRaw<Array<{ fingerprint: string; count: number; type: string; consumer: string | null }>>`
      SELECT fingerprint, count(*)::int AS count, max(event_type) AS type, max(consumer) AS consumer
      FROM ${letters} WHERE received_at >= ${from} AND received_at < ${to}
      GROUP BY fingerprint ORDER BY count DESC, fingerprint LIMIT 10`;

    await emit('com.medlab.dead-letter.daily-report', {
      day, ...totals, bySystem,
      topGroups: topGroups.map((g) => ({ fingerprint: g.fingerprint, count: g.count, type: g.type, ...(g.consumer ? { consumer: g.consumer } : {}) })),
    });
    const { team } = policy().alerts;
    await emit('com.medlab.notification.requested', {
      requestId: `dead-letter-daily-report:${day}`,
      template: 'dead-letter-daily-report',
      recipient: { kind: 'operators', team },
      category: 'operations',
      critical: false,
      variables: {
        day, received: totals.received, resolved: totals.resolved, parked: totals.parked, discarded: totals.discarded, open: totals.open,
        ...(totals.oldestOpenMinutes !== null ? { oldestOpenMinutes: totals.oldestOpenMinutes } : {}), console: consoleLink(),
      },
    });
    return { day, sent: true };
  });
}

/** Letters past their retention, removed with their history; alert marks that no longer hold anything back. */
export async function removeExpired(): Promise<Record<'resolved' | 'discarded' | 'parked' | 'alerts', number>> {
  const { retention, alerts } = policy();
  const removed = { resolved: 0, discarded: 0, parked: 0, alerts: 0 };
  for (const [status, days] of [['resolved', retention.resolvedDays], ['discarded', retention.discardedDays], ['parked', retention.parkedDays]] as const) {
    for (;;) {
      const n = await db().$executeRaw`
        DELETE FROM ${letters} WHERE id IN (
          SELECT id FROM ${letters} WHERE status = ${status}::dead_letter.letter_status AND status_at < now() - make_interval(days => ${days})
          LIMIT ${DELETE_BATCH})`;
      removed[status] += n;
      if (n < DELETE_BATCH) break;
    }
  }
  // A mark older than both its repeat window and a daily report's day holds nothing back any more.
  removed.alerts = await db().$executeRaw`
    DELETE FROM ${alertTable} WHERE raised_at < now() - greatest(make_interval(mins => ${alerts.repeatMinutes}), interval '2 days')`;
  return removed;
}
