// An admin adds a doctor, room or device to a branch, or changes one: its capabilities, weekly hours
// (breaks are the gaps) and whether it is in use. Visits already booked are never moved silently: those the
// change leaves outside the resource's time are named in the answer for staff to reschedule.
import { route, created, ok } from '../../shared/http';
import { assertBranch } from '../../shared/access';
import { notFound } from '../../shared/domain-errors';
import { DEFAULT_ZONE } from '../../shared/calendar';
import { knownZone } from '../appointments';
import { checkHours, resourceView, visitsOutsideSchedule } from '../clinic';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'appointment-resource-save', system, method: 'POST', path: '/api/appointments/resources',
    summary: 'Add or change a clinic resource and its weekly hours (admin)', auth: ['staff'], grant: 'admin', body,
    responses: { 201: { description: 'the new resource', schema: view }, 200: { description: 'the changed resource', schema: view } },
    refuses: { 'not-found': 'no such resource', forbidden: 'another branch', invalid: 'hours that end before they start or overlap; an unknown time zone' },
  },
  async ({ body, caller, transaction }) => {
    assertBranch(caller, body.branchId);
    const data = {
      branchId: body.branchId, kind: body.kind, name: body.name, capabilities: [...body.capabilities], hours: checkHours(body.hours),
      active: body.active, timezone: knownZone(body.timezone, 'timezone') ?? DEFAULT_ZONE,
    };
    return transaction(async (tx) => {
      if (!body.resourceId) {
        const made = await tx.resource.create({ data });
        return created({ resource: resourceView({ ...made, exceptions: [] }), visitsOutsideSchedule: [] });
      }
      const before = await tx.resource.findUnique({ where: { id: body.resourceId } });
      // A resource of another branch answers as a missing one.
      if (!before || (caller.branchId && before.branchId !== caller.branchId)) throw notFound('resourceId');
      const changed = await tx.resource.update({ where: { id: body.resourceId }, data, include: { exceptions: { where: { endsAt: { gt: new Date() } }, orderBy: { startsAt: 'asc' } } } });
      return ok({ resource: resourceView(changed), visitsOutsideSchedule: await visitsOutsideSchedule(tx, changed.id) });
    });
  },
);
