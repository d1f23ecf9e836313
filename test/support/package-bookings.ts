// Package bookings for the patient-booking tests: a catalogue package, a booking at any step of its life, and
// the booking queue's events about it as booking-events carries them.
import { randomUUID } from 'node:crypto';
import { db } from '../../functions/shared/db';
import type { PackageBookingStatus } from '../../functions/shared/generated/prisma/client';
import { BRANCH } from './fixtures';

export const PACKAGE = 'basic-blood';

/** A package offered on the booking queue's blood-draw service (seedCatalogue). */
export async function seedPackage(opts: { code?: string; version?: number; priceVnd?: number; serviceId?: string; withdrawn?: boolean } = {}) {
  return db().cataloguePackage.create({
    data: {
      code: opts.code ?? PACKAGE, version: BigInt(opts.version ?? 3), name: 'Basic blood panel', testCodes: ['GLU', 'HBA1C'],
      priceVnd: BigInt(opts.priceVnd ?? 450_000), serviceId: opts.serviceId ?? 'blood-draw',
      ...(opts.withdrawn ? { withdrawnAt: new Date() } : {}),
    },
  });
}

/** A package booking as far along as asked: placed ones have a queue booking, a branch and a time. */
export async function placeBooking(opts: { patientId?: string; status?: PackageBookingStatus; branchId?: string; startsAt?: Date; createdAt?: Date } = {}) {
  const status = opts.status ?? 'confirmed';
  const placed = !['requested', 'rejected'].includes(status);
  return db().packageBooking.create({
    data: {
      patientId: opts.patientId ?? 'p-1', packageCode: PACKAGE, packageVersion: 3n, priceVnd: 450_000n, slotId: randomUUID(), serviceId: 'blood-draw', status,
      ...(placed ? { queueBookingId: randomUUID(), branchId: opts.branchId ?? BRANCH, startsAt: opts.startsAt ?? new Date('2030-03-04T02:30:00Z') } : {}),
      ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
    },
  });
}

interface Booked { id: string; patientId: string; slotId: string; queueBookingId?: string | null }

/** What the booking queue says of a booking on booking-events (facts as its events carry them). */
export function queueFacts(b: Booked, o: { queueBookingId?: string; status?: string; startsAt?: string; serviceId?: string; branchId?: string } = {}) {
  return {
    bookingId: o.queueBookingId ?? b.queueBookingId ?? randomUUID(), patientId: b.patientId, slotId: b.slotId, branchId: o.branchId ?? BRANCH,
    serviceId: o.serviceId ?? 'blood-draw', startsAt: o.startsAt ?? '2030-03-04T02:30:00.000Z', status: o.status ?? 'confirmed',
  };
}

export const confirmedEvent = (b: Booked, o: Parameters<typeof queueFacts>[1] = {}) =>
  ({ type: 'com.medlab.booking.confirmed', data: { ...queueFacts(b, o), requestId: b.id } });
