// The kinds of visit the portal offers (a GP consultation, an annual check-up …), how long each takes and
// what it needs. Public: it is the clinic's menu, with nothing about anyone.
import { route, ok } from '../../shared/http';
import { visitTypeView } from '../clinic';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-visit-types', system, method: 'GET', path: '/api/appointments/visit-types',
    summary: 'The visit types that can be booked and what each needs', auth: 'public', query,
    responses: { 200: { description: 'the visit types', schema: view } },
  },
  async ({ query, db }) => {
    const found = await db.visitType.findMany({ where: query.includeInactive ? {} : { active: true }, orderBy: { id: 'asc' } });
    return ok({ visitTypes: found.map(visitTypeView) });
  },
);
