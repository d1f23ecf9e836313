// Anyone can see the branches and what they offer. Every branch offers every service in this model, so
// each branch lists the whole catalogue.
import { route, ok } from '../../shared/http';
import { system } from '../system';
import { branchList } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'branches', system, method: 'GET', path: '/api/branches',
    summary: 'Branches and their services', auth: 'public',
    responses: { 200: { description: 'every branch with the services it offers', schema: branchList } },
  },
  async ({ transaction }) =>
    transaction(async (tx) => {
      const branches = await tx.branch.findMany({ orderBy: { name: 'asc' } });
      const services = (await tx.service.findMany({ orderBy: { name: 'asc' } })).map((s) => ({
        serviceId: s.id, name: s.name, durationMinutes: s.durationMinutes, ticketPrefix: s.ticketPrefix, requiresConfirmation: s.requiresConfirmation,
      }));
      return ok({
        branches: branches.map((b) => ({ branchId: b.id, name: b.name, timezone: b.timezone, laneOrder: b.laneOrder, services })),
      });
    }),
);
