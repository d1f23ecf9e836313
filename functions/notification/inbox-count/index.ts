// The portal's badge: how many of the patient's inbox items are unread, and how many of those they have not
// even seen in the list. One query on the partial index of unread items, so it stays cheap to poll.
import { route, ok } from '../../shared/http';
import { countsOf } from '../inbox';
import { system } from '../system';
import { view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'notification-inbox-count', system, method: 'GET', path: '/api/notifications/inbox/count',
    summary: 'Unread and unseen counts of the patient\'s inbox (the badge)', auth: ['patient'],
    responses: { 200: { description: 'the counts', schema: view } },
  },
  async ({ caller, db }) => ok(await countsOf(db, caller.patientId)),
);
