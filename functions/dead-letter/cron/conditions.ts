// The conditions operators are alerted to, checked every minute against the thresholds of the policy
// (knative/base/dead-letter/policy.yaml): an event from a results topic waiting too long (critical: a patient
// may be waiting for a result), a group's volume spiking, the oldest letter still waiting growing too old.
// Each is raised once per repeatMinutes (alerts.ts); all of a run's alerts commit together.
import { transaction } from '../../shared/outbox';
import { letters, waiting } from '../letters';
import { policy } from '../policy';
import { raiseAlert, type Alert } from '../alerts';
import { system } from '../system';

interface Group { fingerprint: string; system: string; eventType: string; consumer: string | null }

const at = (g: Group) => `${g.eventType} at ${g.consumer ?? 'its consumer'}`;

export async function checkConditions(source: string): Promise<string[]> {
  const rules = policy().alerts;
  return transaction(system, source, async (tx, emit) => {
    const alerts: Alert[] = [];

    // Result events still undelivered (waiting, or parked: nobody will deliver those) past resultWaitMinutes.
    const resultsWaiting = await tx.$queryRaw<Array<Group & { topic: string; count: number; letterId: string; oldestMinutes: number }>>`
      SELECT fingerprint, max(system) AS system, max(event_type) AS "eventType", max(consumer) AS consumer, max(topic) AS topic,
        count(*)::int AS count, (array_agg(id::text ORDER BY received_at))[1] AS "letterId",
        floor(extract(epoch FROM now() - min(received_at)) / 60)::int AS "oldestMinutes"
      FROM ${letters}
      WHERE ${waiting()} AND topic = ANY(${rules.resultTopics})
        AND received_at <= now() - make_interval(mins => ${rules.resultWaitMinutes})
      GROUP BY fingerprint`;
    for (const g of resultsWaiting) {
      alerts.push({
        key: `results-waiting:${g.fingerprint}`, kind: 'results-waiting', severity: 'critical',
        summary: `${g.count} event(s) from results topic ${g.topic} (${at(g)}) undelivered for ${g.oldestMinutes} min: a patient may be waiting for a result`,
        system: g.system, fingerprint: g.fingerprint, letterId: g.letterId, count: g.count, oldestMinutes: g.oldestMinutes,
      });
    }

    // A group whose letters in the last window are `factor` times its usual rate (the mean of the 24 windows
    // before), and at least `minimum` of them.
    const { windowMinutes, factor, minimum } = rules.spike;
    const busy = await tx.$queryRaw<Array<Group & { recent: number; before: number }>>`
      SELECT fingerprint, max(system) AS system, max(event_type) AS "eventType", max(consumer) AS consumer,
        count(*) FILTER (WHERE received_at > now() - make_interval(mins => ${windowMinutes}))::int AS recent,
        count(*) FILTER (WHERE received_at <= now() - make_interval(mins => ${windowMinutes}))::int AS before
      FROM ${letters}
      WHERE received_at > now() - make_interval(mins => ${windowMinutes * 25})
      GROUP BY fingerprint
      HAVING count(*) FILTER (WHERE received_at > now() - make_interval(mins => ${windowMinutes})) >= ${minimum}`;
    for (const g of busy) {
      const usual = g.before / 24;
      if (g.recent < factor * usual) continue;
      alerts.push({
        key: `volume-spike:${g.fingerprint}`, kind: 'volume-spike', severity: 'warning',
        summary: `${g.recent} dead letters in ${windowMinutes} min for ${at(g)} (usually ${usual.toFixed(1)})`,
        system: g.system, fingerprint: g.fingerprint, count: g.recent,
      });
    }

    // The oldest letter still waiting for its delivery (open or retrying; parked ones wait for a person and
    // are reported daily).
    const [oldest] = await tx.$queryRaw<Array<{ id: string; system: string; fingerprint: string; minutes: number; count: number }>>`
      SELECT o.id::text AS id, o.system, o.fingerprint, floor(extract(epoch FROM now() - o.received_at) / 60)::int AS minutes,
        (SELECT count(*)::int FROM ${letters} WHERE status IN ('open', 'retrying') AND received_at <= now() - make_interval(mins => ${rules.oldestUnresolvedMinutes})) AS count
      FROM ${letters} o
      WHERE o.status IN ('open', 'retrying') AND o.received_at <= now() - make_interval(mins => ${rules.oldestUnresolvedMinutes})
      ORDER BY o.received_at LIMIT 1`;
    if (oldest) {
      alerts.push({
        key: 'oldest-unresolved', kind: 'oldest-unresolved', severity: 'warning',
        summary: `The oldest dead letter still waiting has waited ${oldest.minutes} min (${oldest.count} waiting longer than ${rules.oldestUnresolvedMinutes} min)`,
        system: oldest.system, fingerprint: oldest.fingerprint || undefined, letterId: oldest.id, count: oldest.count, oldestMinutes: oldest.minutes,
      });
    }

    const raised: string[] = [];
    for (const alert of alerts) if (await raiseAlert(tx, emit, alert)) raised.push(alert.key);
    return raised;
  });
}
