// The clinic's resources at a branch (doctors, rooms, devices) with their weekly hours and the exceptions
// still ahead: what staff look at before changing a schedule.
import { route, ok } from '../../shared/http';
import { assertBranch } from '../../shared/access';
import { resourceView } from '../clinic';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-resources', system, method: 'GET', path: '/api/appointments/resources',
    summary: 'A branch\'s resources with their hours and coming exceptions', auth: ['staff', 'service'], query,
    responses: { 200: { description: 'the resources', schema: view } },
    refuses: { forbidden: 'another branch' },
  },
  async ({ query, caller, db }) => {
    assertBranch(caller, query.branchId);
    const resources = await db.resource.findMany({
      where: { branchId: query.branchId, ...(query.includeInactive ? {} : { active: true }) },
      include: { exceptions: { where: { endsAt: { gt: new Date() } }, orderBy: { startsAt: 'asc' } } },
      orderBy: [{ kind: 'asc' }, { name: 'asc' }],
    });
    return ok({ branchId: query.branchId, resources: resources.map(resourceView) });
  },
);
