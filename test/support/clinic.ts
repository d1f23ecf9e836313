// The appointment system's test clinic: at BRANCH two general practitioners, two exam rooms and one ECG
// device working 07:00–12:00 and 13:00–17:00 every day (lunch is the break), and the visit types that need
// them. Times are branch-local (Asia/Ho_Chi_Minh) days from today.
import { db } from '../../functions/shared/db';
import { signToken } from '../../functions/shared/auth';
import { addDays, branchDay, localTimeToUtc } from '../../functions/shared/calendar';
import { BRANCH, OTHER_BRANCH } from './fixtures';
import { takePlace, visitTypeOf } from '../../functions/appointment/appointments';

export const ZONE = 'Asia/Ho_Chi_Minh';
export const EVERY_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [['07:00', '12:00'], ['13:00', '17:00']]]));

export const RESOURCES = {
  drAn: '10000000-0000-4000-8000-000000000001',
  drBinh: '10000000-0000-4000-8000-000000000002',
  room1: '10000000-0000-4000-8000-000000000011',
  room2: '10000000-0000-4000-8000-000000000012',
  ecg: '10000000-0000-4000-8000-000000000021',
  otherBranchDoctor: '10000000-0000-4000-8000-000000000031',
} as const;

/** The branch-local date `days` days from today, e.g. '2026-12-09'. */
export const localDay = (days: number) => addDays(branchDay(new Date(), ZONE), days);

/** The instant of a branch-local time `days` days from today, e.g. at(1, '09:00') is tomorrow 09:00 in Ho Chi Minh City. */
export const at = (days: number, time: string) => localTimeToUtc(addDays(branchDay(new Date(), ZONE), days), time, ZONE);

export async function seedClinic(): Promise<void> {
  await db().resource.createMany({
    data: [
      { id: RESOURCES.drAn, branchId: BRANCH, kind: 'practitioner', name: 'Dr. An', capabilities: ['general-practice'], hours: EVERY_DAY },
      { id: RESOURCES.drBinh, branchId: BRANCH, kind: 'practitioner', name: 'Dr. Binh', capabilities: ['general-practice', 'cardiology'], hours: EVERY_DAY },
      { id: RESOURCES.room1, branchId: BRANCH, kind: 'room', name: 'Exam room 1', capabilities: ['exam'], hours: EVERY_DAY },
      { id: RESOURCES.room2, branchId: BRANCH, kind: 'room', name: 'Exam room 2', capabilities: ['exam'], hours: EVERY_DAY },
      { id: RESOURCES.ecg, branchId: BRANCH, kind: 'device', name: 'ECG 1', capabilities: ['ecg'], hours: EVERY_DAY },
      { id: RESOURCES.otherBranchDoctor, branchId: OTHER_BRANCH, kind: 'practitioner', name: 'Dr. Cuong', capabilities: ['general-practice'], hours: EVERY_DAY },
    ],
  });
  await db().visitType.createMany({
    data: [
      {
        id: 'annual-checkup', name: 'Annual check-up', durationMinutes: 30,
        requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }, { kind: 'device', capability: 'ecg' }],
      },
      { id: 'gp-consult', name: 'GP consultation', durationMinutes: 15, requirements: [{ kind: 'practitioner', capability: 'general-practice' }, { kind: 'room', capability: 'exam' }] },
      { id: 'cardio-paid', name: 'Cardiology consultation (paid first)', durationMinutes: 20, requiresPayment: true, requirements: [{ kind: 'practitioner', capability: 'cardiology' }, { kind: 'device', capability: 'ecg' }] },
    ],
  });
}

/**
 * An appointment placed as the book route places it (resources chosen and held by takePlace),
 * written straight to the database: for tests of what happens to a visit afterwards.
 */
export async function createAppointment(opts: {
  start: Date; visitTypeId?: string; patientId?: string; branchId?: string;
  status?: 'proposed' | 'pending' | 'booked' | 'arrived' | 'checked_in';
  paymentStatus?: 'not_required' | 'awaiting' | 'paid'; holdExpiresAt?: Date; patientTimezone?: string; language?: string; createdAt?: Date;
}) {
  return db().$transaction(async (tx) => {
    const visitType = await visitTypeOf(tx, opts.visitTypeId ?? 'gp-consult');
    const branchId = opts.branchId ?? BRANCH;
    const appointment = await tx.appointment.create({
      data: {
        patientId: opts.patientId ?? 'patient-1', branchId, visitTypeId: visitType.id,
        startsAt: opts.start, endsAt: new Date(opts.start.getTime() + visitType.durationMinutes * 60_000), status: opts.status ?? 'booked',
        paymentStatus: opts.paymentStatus ?? 'not_required', holdExpiresAt: opts.holdExpiresAt ?? null,
        patientTimezone: opts.patientTimezone ?? ZONE, language: opts.language ?? 'vi',
        ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
      },
    });
    const place = await takePlace(tx, appointment.id, visitType, branchId, opts.start);
    return { ...appointment, resourceIds: place.resourceIds };
  });
}

/** Staff of a branch holding the admin grant (resources, schedules and visit types); no branch: every branch. */
export const adminToken = (branchId: string | undefined = BRANCH) =>
  signToken({ sub: `admin-${branchId ?? 'all'}`, role: 'staff', grants: ['admin'], ...(branchId ? { branchId } : {}), exp: Math.floor(Date.now() / 1000) + 3600 });

/** Holdings in force that overlap another in force on the same resource: always none, the database refuses them. */
export async function doubleBookings(): Promise<number> {
  const [row] = await db().$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM appointment.resource_booking a JOIN appointment.resource_booking b
      ON a.resource_id = b.resource_id AND a.id < b.id AND a.released_at IS NULL AND b.released_at IS NULL
     AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')`;
  return row.n;
}
