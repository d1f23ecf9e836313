// The dead-letter system's clock, run by two PingSources (knative/base/dead-letter/dead-letter-cron.yaml).
// Every minute ({"job":"minute"}, or a hand-run POST with no body): due automatic retries go to the retry
// consumer, and operators are alerted to results waiting, a group's spike or an old letter. Every morning
// ({"job":"daily"}, 06:00 in Ho Chi Minh City): yesterday's report, and letters past their retention removed.
// Every step is safe to run twice at once or again after a failure: nothing is queued, told or removed twice.
import { scheduled } from '../../shared/scheduled';
import { badRequest } from '../../shared/errors';
import { system } from '../system';
import { assertPolicy } from '../policy';
import { queueDueRetries } from './due-retries';
import { checkConditions } from './conditions';
import { dailyReport, removeExpired } from './daily';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'dead-letter-cron';
// Thresholds and retention come from the policy: without a readable one the function stops at start-up, naming it.
assertPolicy();
const SOURCE = `/${system.name}/${NAME}`;

export const handle = scheduled(
  { name: NAME, system, schedule: '* * * * *', summary: 'Queue due dead-letter retries and raise alerts every minute; report and remove expired letters daily' },
  async (log, ping) => {
    const job = ping.job ?? 'minute';
    if (job === 'minute') {
      const { queued } = await queueDueRetries(SOURCE, NAME);
      const alerts = await checkConditions(SOURCE);
      if (queued || alerts.length) log.info({ queued, alerts }, 'dead-letter minute');
      return { job, queued, alerts };
    }
    if (job === 'daily') {
      const report = await dailyReport(SOURCE);
      const removed = await removeExpired();
      log.info({ report, removed }, 'dead-letter daily');
      return { job, report, removed };
    }
    throw badRequest('job is "minute" (the default) or "daily"', 'body/job', 'must be "minute" or "daily"');
  },
);
