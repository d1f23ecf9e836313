// A patient sets, for one category (or '*' for all), the channels to reach them on in order and their quiet
// hours. The in-app inbox cannot be removed (every notice lands there); quiet hours are "HH:MM" pairs on the
// patient's own clock (equal start and end: none; none given: the clinic's). Saving again replaces the
// category's preference.
import { route, ok } from '../../shared/http';
import { checkPreference, preferenceView } from '../preferences';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'notification-preference-save', system, method: 'POST', path: '/api/notifications/preferences',
    summary: 'Set the patient\'s channels and quiet hours for a category', auth: ['patient'], body,
    responses: { 200: { description: 'the saved preference', schema: view } },
    refuses: { invalid: 'channels without in-app' },
  },
  async ({ body, caller, db }) => {
    checkPreference(body.channels, body.quietHours);
    const data = { channels: [...body.channels], quietStart: body.quietHours?.start ?? null, quietEnd: body.quietHours?.end ?? null };
    const saved = await db.preference.upsert({
      where: { patientId_category: { patientId: caller.patientId, category: body.category } },
      create: { patientId: caller.patientId, category: body.category, ...data },
      update: data,
    });
    return ok(preferenceView(saved));
  },
);
