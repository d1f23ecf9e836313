// A patient reads their notification preferences: what they saved per category, with the categories and
// channels they may choose from (for the portal's settings page).
import { route, ok } from '../../shared/http';
import { channels } from '../events';
import { categoryNames, preferenceView } from '../preferences';
import { system } from '../system';
import { view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'notification-preferences', system, method: 'GET', path: '/api/notifications/preferences',
    summary: 'The patient\'s channel preferences and quiet hours per category', auth: ['patient'],
    responses: { 200: { description: 'the saved preferences, the categories and the channels', schema: view } },
  },
  async ({ caller, db }) => {
    const saved = await db.preference.findMany({ where: { patientId: caller.patientId }, orderBy: { category: 'asc' } });
    return ok({ categories: categoryNames, channels: [...channels], preferences: saved.map(preferenceView) });
  },
);
