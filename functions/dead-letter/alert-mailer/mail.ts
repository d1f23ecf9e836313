// The email for an alert and for the daily report: what the event says (counts, the system, the group,
// where to look and what to do), in plain text. The events carry no event data or reasons, so neither does
// the email.
import type { EventData } from '../../shared/system';
import type { events } from '../events';

type AlertRaised = EventData<typeof events, 'com.medlab.dead-letter.alert-raised'>;
type DailyReport = EventData<typeof events, 'com.medlab.dead-letter.daily-report'>;

export interface Mail {
  subject: string;
  text: string;
}

const link = (consoleBase: string, path: string) => `${consoleBase}${path}`;

export function alertMail(a: AlertRaised, consoleBase: string): Mail {
  const about = [a.system, a.fingerprint && `group ${a.fingerprint}`].filter(Boolean).join(', ');
  return {
    subject: `[dead letters] ${a.severity === 'critical' ? 'CRITICAL' : 'warning'} ${a.kind}${about ? ` (${about})` : ''}`,
    text: [
      a.summary,
      '',
      `Alert: ${a.kind} (${a.severity})`,
      a.system && `System: ${a.system}`,
      a.fingerprint && `Group: ${a.fingerprint}`,
      a.count !== undefined && `Letters: ${a.count}`,
      a.oldestMinutes !== undefined && `Waiting: ${a.oldestMinutes} min`,
      `Console: ${link(consoleBase, a.fingerprint ? `/dead-letters?group=${encodeURIComponent(a.fingerprint)}` : '/dead-letters')}`,
      a.runbook && `What to do: ${a.runbook}`,
      '',
      `Alert ${a.alertId}; the same condition alerts again only after the policy's repeatMinutes.`,
    ].filter((line) => line !== undefined && line !== false).join('\n'),
  };
}

export function reportMail(r: DailyReport, consoleBase: string): Mail {
  return {
    subject: `[dead letters] ${r.day}: ${r.received} received, ${r.open} waiting`,
    text: [
      `Dead letters on ${r.day} (Asia/Ho_Chi_Minh)`,
      '',
      `Received: ${r.received}`,
      `Resolved: ${r.resolved}`,
      `Parked: ${r.parked}`,
      `Discarded: ${r.discarded}`,
      `Still waiting now: ${r.open}${r.oldestOpenMinutes != null ? ` (the oldest for ${r.oldestOpenMinutes} min)` : ''}`,
      '',
      'By system (received that day / waiting now):',
      ...(r.bySystem.length ? r.bySystem.map((s) => `  ${s.system}: ${s.received} / ${s.open}`) : ['  none']),
      ...(r.topGroups?.length ? ['', 'Groups that brought most:', ...r.topGroups.map((g) => `  ${g.fingerprint}: ${g.count} × ${g.type ?? '?'}${g.consumer ? ` at ${g.consumer}` : ''}`)] : []),
      '',
      `Console: ${link(consoleBase, '/dead-letters')}`,
    ].join('\n'),
  };
}
