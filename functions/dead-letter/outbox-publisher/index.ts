// dead-letter-outbox-publisher (scaffolded): replace this line with two or three saying what this job does on its schedule and what it guarantees.
import { scheduled } from '../../shared/scheduled';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = scheduled(
  { name: 'dead-letter-outbox-publisher', system, schedule: '* * * * *', summary: 'dead-letter-outbox-publisher (scaffolded)' },
  async () => ({ done: true }),
);
