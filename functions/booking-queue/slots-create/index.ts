// Staff open one slot of a service at their branch: a start time, a length and how many patients it takes.
import { route, created, cors } from '../../shared/http';
import { badRequest, conflict, notFound } from '../../shared/errors';
import { assertBranchAccess } from '../../shared/auth';
import { isUniqueViolation } from '../../shared/db';
import { SYSTEM } from '../domain';
import { slotView } from '../booking-rules';
import { body, slot } from './schema';

export { cors };

export const handle = route(
  {
    name: 'slots-create', system: SYSTEM, method: 'POST', path: '/api/slots',
    summary: 'Open a bookable slot', auth: ['staff', 'service'], body,
    responses: { 201: { description: 'the slot, open for booking', schema: slot } },
  },
  async ({ body, caller, transaction }) => {
    assertBranchAccess(caller!, body.branchId);
    const startsAt = new Date(body.startsAt);
    if (startsAt <= new Date()) throw badRequest('a slot cannot start in the past', 'body/startsAt', 'must be in the future');

    try {
      return await transaction(async (tx) => {
        const branch = await tx.branch.findUnique({ where: { id: body.branchId } });
        if (!branch) throw notFound('body/branchId', 'no such branch');
        const service = await tx.service.findUnique({ where: { id: body.serviceId } });
        if (!service) throw notFound('body/serviceId', 'no such service');

        const minutes = body.durationMinutes ?? service.durationMinutes;
        const opened = await tx.slot.create({
          data: { branchId: branch.id, serviceId: service.id, startsAt, endsAt: new Date(startsAt.getTime() + minutes * 60_000), capacity: body.capacity },
        });
        return created(slotView(opened));
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('this service already has a slot starting then at this branch', 'body/startsAt');
      throw err;
    }
  },
);
