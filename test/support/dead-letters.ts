// Dead letters for the operators' API tests, written straight into dead_letter.dead_letter (the intake's own
// tests cover how Knative's deliveries become letters), and the tokens of the people who look at them.
import { randomUUID } from 'node:crypto';
import { db } from '../../functions/shared/db';
import { signToken, type Grant } from '../../functions/shared/auth';
import type { DeadLetterStatus, Prisma } from '../../functions/shared/generated/prisma/client';

/** Staff holding these grants (operator: the dead-letter API; phi: event data unmasked). */
export const operatorToken = (grants: Grant[] = ['operator'], sub = 'ops-1') =>
  signToken({ sub, role: 'staff', grants, exp: Math.floor(Date.now() / 1000) + 3600 });

export interface LetterSpec {
  system?: string;
  status?: DeadLetterStatus;
  kafkaSource?: string;
  consumer?: string;
  eventType?: string;
  group?: string;
  code?: number | null;
  reason?: string;
  /** When it was received (default: now). */
  receivedAt?: Date;
  data?: Prisma.InputJsonObject;
  errorData?: unknown;
}

/** A letter as the intake would keep it for a booking request that booking-consumer refused. */
export async function insertLetter(spec: LetterSpec = {}) {
  const eventId = randomUUID();
  const type = spec.eventType ?? 'com.medlab.booking.requested';
  const data = spec.data ?? { requestId: randomUUID(), patientId: 'p-1', slotId: randomUUID(), note: 'call Nguyen Van A on 0901234567' };
  const consumer = spec.consumer ?? 'booking-consumer';
  const errorData = spec.errorData === undefined ? { title: 'Unprocessable Event', detail: 'no such slot "s-1"' } : spec.errorData;
  const answer = errorData === null ? null : Buffer.from(typeof errorData === 'string' ? errorData : JSON.stringify(errorData)).toString('base64');
  const dest = `http://${consumer}.patient-portal.svc.cluster.local`;
  const code = spec.code === undefined ? 422 : spec.code;
  return db().deadLetter.create({
    data: {
      eventId,
      eventSource: '/portal',
      eventType: type,
      topic: 'booking-requests',
      kafkaSource: spec.kafkaSource ?? 'booking-consumer-source',
      consumer,
      errorDest: dest,
      errorCode: code,
      errorData: answer,
      reason: spec.reason ?? 'Unprocessable Event: no such slot "s-1"',
      fingerprint: spec.group ?? 'a1b2c3d4e5f60708',
      // As the intake keeps it: the event with what Knative's delivery added to it.
      event: {
        specversion: '1.0', id: eventId, source: '/portal', type, datacontenttype: 'application/json', data,
        knativeerrordest: dest, ...(code !== null ? { knativeerrorcode: String(code) } : {}), ...(answer !== null ? { knativeerrordata: answer } : {}),
      },
      system: spec.system ?? 'booking-queue',
      partition: 2,
      offset: 1234n,
      key: 'p-1',
      status: spec.status ?? 'open',
      statusBy: 'intake',
      ...(spec.receivedAt ? { receivedAt: spec.receivedAt, lastSeenAt: spec.receivedAt, statusAt: spec.receivedAt } : {}),
    },
  });
}

/** `n` letters, one a minute back from `from` (the first is the newest). */
export async function insertLetters(n: number, spec: LetterSpec = {}, from = new Date()) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await insertLetter({ ...spec, receivedAt: new Date(from.getTime() - i * 60_000) }));
  return out;
}

export const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
