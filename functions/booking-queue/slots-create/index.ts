// Staff open one slot of a service at their branch: a start time, a length and how many patients it takes.
import { route, created } from '../../shared/http';
import { invalid, conflict, notFound } from '../../shared/domain-errors';
import { assertBranch } from '../../shared/access';
import { isUniqueViolation } from '../../shared/db';
import { system } from '../system';
import { slotView } from '../booking-rules';
import { body, slot } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'slots-create', system, method: 'POST', path: '/api/slots',
    summary: 'Open a bookable slot', auth: ['staff', 'service'], body, idempotent: true,
    responses: { 201: { description: 'the slot, open for booking', schema: slot } },
    refuses: { 'not-found': 'no such branch or service', conflict: 'the service already has a slot starting then at the branch', forbidden: 'staff of another branch', invalid: 'a slot cannot start in the past' },
  },
  async ({ body, caller, transaction }) => {
    assertBranch(caller, body.branchId);
    const startsAt = new Date(body.startsAt);
    if (startsAt <= new Date()) throw invalid('a slot cannot start in the past', 'startsAt');

    try {
      return await transaction(async (tx) => {
        const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
        if (!branch) throw notFound('branchId', 'no such branch');
        const service = await tx.service.findUnique({ where: { id: body.serviceId } });
        if (!service) throw notFound('serviceId', 'no such service');

        const minutes = body.durationMinutes ?? service.durationMinutes;
        const opened = await tx.slot.create({
          data: { branchId: branch.id, serviceId: service.id, startsAt, endsAt: new Date(startsAt.getTime() + minutes * 60_000), capacity: body.capacity },
        });
        return created(slotView(opened));
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('this service already has a slot starting then at this branch', 'startsAt');
      throw err;
    }
  },
);
