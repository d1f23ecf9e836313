// Alerts of the dead-letter system. Each condition has a key (its kind and what it is about) and is raised
// at most once per repeatMinutes (dead_letter.alert), so a condition that holds for hours tells operators
// once an hour, not every minute. It is told twice, in the same transaction as what caused it:
// alert-raised on dead-letter-events (for whatever watches the bundle, and the alert mailer), and
// notification.requested for the operators' team. Neither carries event data or reasons, which may quote a
// patient: counts, the system, the group and where to look.
import { randomUUID } from 'node:crypto';
import { tableOf, type Tx } from '../shared/db';
import type { alertKinds } from './events';
import { policy } from './policy';
import { system, type DeadLetterEmit } from './system';

export type AlertKind = (typeof alertKinds)[number];

export interface Alert {
  /** The condition: the same condition raised again has the same key. */
  key: string;
  kind: AlertKind;
  severity: 'warning' | 'critical';
  summary: string;
  system?: string;
  fingerprint?: string;
  letterId?: string;
  count?: number;
  oldestMinutes?: number;
}

/** What an operator does when each alert fires: README's runbook, one anchor per kind. */
export const RUNBOOK: Record<AlertKind, string> = {
  'retries-exhausted': 'README#runbook-retries-exhausted',
  'volume-spike': 'README#runbook-volume-spike',
  'oldest-unresolved': 'README#runbook-oldest-unresolved',
  'results-waiting': 'README#runbook-results-waiting',
};

/** Where in the console to look: the group's letters, or all of them. */
export const consoleLink = (fingerprint?: string) => (fingerprint ? `/dead-letters?group=${encodeURIComponent(fingerprint)}` : '/dead-letters');

export const alertTable = tableOf(system, 'alert');

/**
 * Claims a key unless it was claimed within `repeatMinutes`: true when this caller should tell. One statement,
 * so two runs at once (a PingSource and a hand-run POST) cannot both tell.
 */
export async function claimAlertKey(tx: Tx, key: string, repeatMinutes: number, detail: object = {}): Promise<boolean> {
  const claimed = await tx.$executeRaw`
    INSERT INTO ${alertTable} AS a (key, raised_at, detail) VALUES (${key}, now(), ${JSON.stringify(detail)}::jsonb)
    ON CONFLICT (key) DO UPDATE SET raised_at = now(), detail = EXCLUDED.detail
    WHERE a.raised_at <= now() - make_interval(mins => ${repeatMinutes})`;
  return claimed > 0;
}

/** Raises an alert unless its condition was raised within repeatMinutes; true when it was raised now. */
export async function raiseAlert(tx: Tx, emit: DeadLetterEmit, alert: Alert): Promise<boolean> {
  const { repeatMinutes, team } = policy().alerts;
  if (!(await claimAlertKey(tx, alert.key, repeatMinutes, { kind: alert.kind, count: alert.count ?? null }))) return false;
  const alertId = randomUUID();
  const runbook = RUNBOOK[alert.kind];
  await emit('com.medlab.dead-letter.alert-raised', { alertId, alertKey: alert.key.slice(0, 300), kind: alert.kind, severity: alert.severity, summary: alert.summary.slice(0, 1000), ...defined({ system: alert.system, fingerprint: alert.fingerprint, letterId: alert.letterId, count: alert.count, oldestMinutes: alert.oldestMinutes }), runbook });
  await emit('com.medlab.notification.requested', {
    requestId: alertId,
    template: 'dead-letter-alert',
    recipient: { kind: 'operators', team },
    category: 'operations',
    critical: alert.severity === 'critical',
    variables: {
      kind: alert.kind, severity: alert.severity, summary: alert.summary.slice(0, 1000), console: consoleLink(alert.fingerprint), runbook,
      ...defined({ system: alert.system, group: alert.fingerprint, count: alert.count, oldestMinutes: alert.oldestMinutes }),
    },
  });
  return true;
}

/** The fields that have a value (the schemas take no nulls for optional fields). */
function defined<T extends Record<string, string | number | undefined>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
