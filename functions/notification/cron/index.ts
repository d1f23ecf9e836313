// The notification system's clock, run by two PingSources (knative/base/notification/cron.yaml). Every minute
// ({"job":"minute"}, or a hand-run POST with no body): notifications whose time came are dispatched (scheduled
// sends, the end of quiet hours, closed results windows) and deliveries whose retry is due go to the sender
// again. Every night ({"job":"daily"}): notifications, inbox items, handled-event rows and idempotency records
// past their retention are removed. Safe to overlap: nothing is dispatched or re-emitted twice.
import { pingInstant, scheduled } from '../../shared/scheduled';
import { badRequest } from '../../shared/errors';
import { system } from '../system';
import { assertIntakeSettings, intakeSettings } from '../intake/settings';
import { assertNotificationPolicy } from '../intake/policy';
import { dispatchDue, emitDueRetries } from './due';
import { cleanUp } from './cleanup';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-cron';
const SOURCE = `/${system.name}/${NAME}`;
assertIntakeSettings();
assertNotificationPolicy();

export const handle = scheduled(
  { name: NAME, system, schedule: '* * * * *', summary: 'Dispatch due notifications and re-emit due retries every minute; remove what expired nightly' },
  async (log, ping) => {
    const job = ping.job ?? 'minute';
    const now = pingInstant(ping);
    const settings = intakeSettings();
    if (job === 'minute') {
      const notifications = await dispatchDue(SOURCE, now);
      const retries = await emitDueRetries(SOURCE, now, settings.claimStaleSeconds);
      if (Object.values(notifications).some(Boolean) || retries) log.info({ notifications, retries }, 'notification minute');
      return { job, now: now.toISOString(), notifications, retries };
    }
    if (job === 'daily') {
      const removed = await cleanUp(now, settings);
      log.info({ removed }, 'notification daily');
      return { job, now: now.toISOString(), removed };
    }
    throw badRequest('job is "minute" (the default) or "daily"', 'body/job', 'must be "minute" or "daily"');
  },
);
