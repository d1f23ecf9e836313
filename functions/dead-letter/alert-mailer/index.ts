// dead-letter-alert-mailer (scaffolded): replace this line with two or three saying which events arrive, what each changes and what it guarantees.
import { consume } from '../../shared/consume';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = consume(
  { name: 'dead-letter-alert-mailer', system, topics: ['dead-letter-events'], summary: 'dead-letter-alert-mailer (scaffolded)' },
  {
    'com.medlab.dead-letter.alert-raised': async (data, { log }) => {
      log.info({ event: 'com.medlab.dead-letter.alert-raised' }, 'event received');
      return { seen: true };
    },
  },
);
