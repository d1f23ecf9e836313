// Staff close a slot to new bookings, or open it again. Closing cancels nobody: patients already booked
// keep their places, and the slot simply stops taking new ones (takePlace books open slots only).
import { route, ok } from '../../shared/http';
import { notFound } from '../../shared/domain-errors';
import { assertBranch } from '../../shared/access';
import { system } from '../system';
import { slotView } from '../booking-rules';
import { body, slot } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'slot-status', system, method: 'POST', path: '/api/slots/status',
    summary: 'Open or close a slot for booking', auth: ['staff', 'service'], body,
    responses: { 200: { description: 'the slot with its new status', schema: slot } },
    refuses: { 'not-found': 'no such slot', forbidden: 'staff of another branch' },
  },
  async ({ body, caller, transaction }) =>
    transaction(async (tx) => {
      const found = await tx.slot.findUnique({ where: { id: body.slotId } });
      // Slots are public (availability lists them): another branch's slot is refused, not hidden.
      if (!found) throw notFound('slotId', 'no such slot');
      assertBranch(caller, found.branchId, 'slotId');
      const changed = await tx.slot.update({ where: { id: found.id }, data: { status: body.status } });
      return ok(slotView(changed));
    }),
);
