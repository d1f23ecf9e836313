// Released results (result-events): the patient is told once per visit, not once per test. The first report
// of an accession opens a window (NOTIFICATION_RESULTS_WINDOW_MINUTES, 10 by default): one 'results-ready'
// notice waits, pending, until the window ends (the cron sends it), and the reports released meanwhile join
// it (counted, never named). A report amended or corrected after that notice went makes one 'results-updated',
// windowed the same way. A critical report (a clinician asks the patient to call) makes 'results-call-clinic'
// at once, past any window and quiet hours. Every notice carries a signed portal link that expires; none
// carries a test name, a value or a diagnosis. One visit's reports are taken one at a time (an advisory lock
// on patient + accession), and a report seen twice counts once.
import { consume, DUPLICATE } from '../../shared/consume';
import { notFound } from '../../shared/domain-errors';
import { createHash, randomUUID } from 'node:crypto';
import { topics } from '../events';
import { system } from '../system';
import { tableOf } from '../../shared/db';
import { resultsLink, assertLinkSecret } from '../links';
import { assertNotificationPolicy, notificationPolicy } from '../intake/policy';
import { assertIntakeSettings, intakeSettings } from '../intake/settings';
import { intakeNow } from '../intake/clock';
import { writeNotice } from '../intake/notice';
import { REACH, type Reach } from '../intake/dispatch';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-results-consumer';
assertNotificationPolicy();
assertIntakeSettings();
assertLinkSecret();

const DAY = 86_400_000;
const notifications = tableOf(system, 'notification');
const contacts = tableOf(system, 'contact_point');
const WINDOWED = ['results-ready', 'results-updated'];

/** The releases a notice counts, each a short hash of report, status and release time (never a test's name). */
const releasesOf = (variables: unknown): string[] => String((variables as Record<string, unknown>)?.releases ?? '').split(',').filter(Boolean);
const releaseKey = (r: { reportId: string; status: string; releasedAt: string }) => createHash('sha256').update(`${r.reportId}\n${r.status}\n${r.releasedAt}`).digest('hex').slice(0, 16);

export const handle = consume(
  { name: NAME, system, topics: [topics.results], summary: 'Tell patients their results are ready: once per visit (a window per accession), updated results once, critical at once' },
  {
    'com.medlab.result.released': async (report, { tx, emit }) => {
      const now = intakeNow();
      // The patient as the system can reach them, and the visit's lock with it (one round trip): the
      // statements after it see what the lock's last holder committed.
      const groupKey = `results:${report.patientId}:${report.accession}`;
      const [reach] = await tx.$queryRaw<Reach[]>`
        WITH locked AS (SELECT pg_advisory_xact_lock(hashtext('notification-results'), hashtext(${groupKey})))
        SELECT ${REACH} FROM locked, ${contacts} c WHERE c.patient_id = ${report.patientId}`;
      if (!reach) throw notFound('patientId', 'no such patient (the CRM has not sent them yet)');
      if (reach.erased) return { ignored: 'the patient was erased' };

      // The same release seen before (a redelivery under another event id, a redrive) counts once, wherever it went.
      const release = releaseKey(report);
      const seen = await tx.$queryRaw<unknown[]>`
        SELECT 1 FROM ${notifications} WHERE group_key = ${groupKey} AND ${release} = ANY(string_to_array(variables->>'releases', ',')) LIMIT 1`;
      if (seen.length) return DUPLICATE;
      const policy = notificationPolicy();
      const notice = (template: string, sendAt: Date, critical = false) => {
        const id = randomUUID();
        const link = resultsLink(policy.links.portalUrl, { accession: report.accession, notificationId: id, expiresAt: new Date(sendAt.getTime() + policy.links.validDays * DAY) });
        return writeNotice(tx, emit, {
          id, requestId: `result:${report.reportId}:${report.status}:${report.releasedAt}`,
          recipientKind: 'patient', patientId: report.patientId, template, category: 'results', critical,
          variables: { accession: report.accession, reports: 1, releases: release, link }, groupKey, sendAt,
        }, now, reach);
      };

      if (report.critical) {
        const written = await notice('results-call-clinic', now, true);
        return written.duplicate ? DUPLICATE : written;
      }

      // A notice of this visit still waiting takes the report (unless the cron has just taken the notice).
      const waiting = await tx.notification.findFirst({ where: { groupKey, status: 'pending', template: { in: WINDOWED } }, orderBy: { createdAt: 'desc' } });
      if (waiting) {
        const joined = [...releasesOf(waiting.variables), release];
        const variables = { ...(waiting.variables as Record<string, unknown>), reports: joined.length, releases: joined.join(',') };
        const { count } = await tx.notification.updateMany({ where: { id: waiting.id, status: 'pending' }, data: { variables } });
        if (count) return { notificationId: waiting.id, joined: waiting.template, reports: joined.length };
      }

      const windowEnd = new Date(new Date(report.releasedAt).getTime() + intakeSettings().resultsWindowMinutes * 60_000);
      // An amendment after the patient was told: "your results were updated"; otherwise these are new results.
      const told = report.status === 'amended' || report.status === 'corrected'
        ? await tx.notification.count({ where: { groupKey, template: 'results-ready', status: { notIn: ['pending', 'cancelled'] } } })
        : 0;
      const written = await notice(told ? 'results-updated' : 'results-ready', windowEnd);
      return written.duplicate ? DUPLICATE : written;
    },
  },
);
