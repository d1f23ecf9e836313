// dead-letter-cron (scaffolded): replace this line with two or three saying what this job does on its schedule and what it guarantees.
import { scheduled } from '../../shared/scheduled';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = scheduled(
  { name: 'dead-letter-cron', system, schedule: '* * * * *', summary: 'dead-letter-cron (scaffolded)' },
  async () => ({ done: true }),
);
