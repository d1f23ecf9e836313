// The patient-booking system's clock, run by two PingSources (knative/base/patient-booking/cron.yaml). Every
// minute ({"job":"minute"}, or a hand-run POST with no body): held sensitive reports whose automatic release
// time came are released, and patients whose package booking is a day away are reminded. Every night ({"job":"daily"}): HL7 control ids, handled-event rows, published
// outbox rows and idempotency records past their retention are removed. Safe to overlap: nothing is
// released twice.
import { pingInstant, scheduled } from '../../shared/scheduled';
import { badRequest } from '../../shared/errors';
import { system } from '../system';
import { assertCronSettings, cronSettings } from './settings';
import { releaseDue } from './due-releases';
import { remindDue } from './reminders';
import { cleanUp } from './cleanup';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'patient-booking-cron';
const SOURCE = `/${system.name}/${NAME}`;
assertCronSettings();

export const handle = scheduled(
  { name: NAME, system, schedule: '* * * * *', summary: 'Every minute: release held sensitive reports whose automatic release time came, remind package bookings a day ahead; nightly: remove what expired' },
  async (log, ping) => {
    const job = ping.job ?? 'minute';
    const now = pingInstant(ping);
    if (job === 'minute') {
      const autoReleased = await releaseDue(SOURCE, `system:${NAME}`, now);
      const reminded = await remindDue(SOURCE, now);
      if (autoReleased || reminded) log.info({ autoReleased, reminded }, 'patient-booking minute');
      return { job, now: now.toISOString(), autoReleased, reminded };
    }
    if (job === 'daily') {
      const removed = await cleanUp(now, cronSettings());
      log.info({ removed }, 'patient-booking daily');
      return { job, now: now.toISOString(), removed };
    }
    throw badRequest('job is "minute" (the default) or "daily"', 'body/job', 'must be "minute" or "daily"');
  },
);
