// The appointment system's clock, run by two PingSources (knative/base/appointment/appointment-cron.yaml).
// Every minute ({"job":"minute"}, or a hand-run POST with no body): holds and unpaid bookings that lapsed
// are cancelled and their resources freed, visits nobody arrived for become no-shows, and the 24 h and 2 h
// reminders that are due go out. Every night ({"job":"daily"}): old inbox rows, HL7 control ids,
// idempotency records and long-lapsed holds are removed. Every step is safe to run twice at once or again
// after a failure: nothing is cancelled, marked or reminded twice.
import { pingInstant, scheduled } from '../../shared/scheduled';
import { badRequest } from '../../shared/errors';
import { system } from '../system';
import { assertCronSettings, cronSettings } from './settings';
import { releaseExpiredHolds } from './expired-holds';
import { markNoShows } from './no-shows';
import { sendDueReminders } from './reminders-due';
import { cleanUp } from './cleanup';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'appointment-cron';
const SOURCE = `/${system.name}/${NAME}`;
assertCronSettings();

export const handle = scheduled(
  { name: NAME, system, schedule: '* * * * *', summary: 'Release lapsed holds, mark no-shows and send due reminders every minute; remove what expired nightly' },
  async (log, ping) => {
    const job = ping.job ?? 'minute';
    const now = pingInstant(ping);
    const settings = cronSettings();
    if (job === 'minute') {
      // Lapsed holds first: their resources are free for anyone booking this minute.
      const expired = await releaseExpiredHolds(SOURCE, now);
      const noshows = await markNoShows(SOURCE, now, settings.noshowGraceMinutes);
      const reminders = await sendDueReminders(SOURCE, now);
      if (expired.holdExpired || expired.paymentExpired || noshows || reminders['24h'] || reminders['2h']) log.info({ expired, noshows, reminders }, 'appointment minute');
      return { job, now: now.toISOString(), expired, noshows, reminders };
    }
    if (job === 'daily') {
      const removed = await cleanUp(now, settings);
      log.info({ removed }, 'appointment daily');
      return { job, now: now.toISOString(), removed };
    }
    throw badRequest('job is "minute" (the default) or "daily"', 'body/job', 'must be "minute" or "daily"');
  },
);
