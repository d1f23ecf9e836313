// Staff close a slot to new bookings, or open it again. Closing cancels nobody: patients already booked
// keep their places, and the slot simply stops taking new ones (takePlace books open slots only).
import { route, ok, cors } from '../../shared/http';
import { notFound } from '../../shared/errors';
import { assertBranchAccess } from '../../shared/auth';
import { SYSTEM } from '../domain';
import { slotView } from '../booking-rules';
import { body, slot } from './schema';

export { cors };

export const handle = route(
  {
    name: 'slot-status', system: SYSTEM, method: 'POST', path: '/api/slots/status',
    summary: 'Open or close a slot for booking', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the slot with its new status', schema: slot } },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx) => {
      const found = await tx.slot.findUnique({ where: { id: body.slotId } });
      if (!found) throw notFound('body/slotId', 'no such slot');
      assertBranchAccess(caller!, found.branchId);
      const changed = await tx.slot.update({ where: { id: found.id }, data: { status: body.status } });
      return ok(slotView(changed));
    }),
);
