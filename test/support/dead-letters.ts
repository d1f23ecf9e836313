// Dead letters for tests: letters written straight into dead_letter.dead_letter as the intake keeps them (the
// intake's own tests cover how Knative's deliveries become letters), the tokens of the operators who look at
// them, and a stand-in for the consumer that failed (it answers each path with the status the test sets:
// /200, /503, /422 by their name, any path by set(); /hang never answers) that remembers what it received.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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


export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface StandInConsumer {
  url: string;
  received: Received[];
  /** From now on, answer this path with this status. */
  set(path: string, status: number): void;
  close(): Promise<void>;
}

const PROBLEMS: Record<number, { title: string; detail: string }> = {
  503: { title: 'Service Unavailable', detail: 'the database is unavailable; retry shortly' },
  422: { title: 'Unprocessable Event', detail: 'no such slot "s-9"' },
  400: { title: 'Invalid Event Data', detail: 'data/slotId: is required' },
};

export async function standInConsumer(): Promise<StandInConsumer> {
  const received: Received[] = [];
  const answers = new Map<string, number>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (path === '/hang') return void hanging.add(res);
      const status = answers.get(path) ?? Number(/^\/(\d{3})$/.exec(path)?.[1] ?? 200);
      const problem = PROBLEMS[status];
      res.writeHead(status, { 'content-type': problem ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(problem ? { type: 'about:blank', status, ...problem } : { status: 'processed' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    set: (path, status) => void answers.set(path, status),
    close: () => new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      server.close(() => resolve());
    }),
  };
}

export interface LetterOptions {
  dest: string;
  status?: DeadLetterStatus;
  kafkaSource?: string | null;
  fingerprint?: string;
  key?: string | null;
  topic?: string | null;
  system?: string;
  eventType?: string;
  data?: unknown;
  retries?: number;
  nextRetryAt?: Date | null;
  receivedAt?: Date;
  statusAt?: Date;
  truncated?: boolean;
  errorCode?: number;
}

/** A letter as the intake keeps one: the event's JSON form with the knativeerror* extensions Knative added. */
export async function keepLetter(o: LetterOptions) {
  const eventId = randomUUID();
  const eventType = o.eventType ?? 'com.medlab.booking.requested';
  const data = o.data ?? { requestId: randomUUID(), patientId: 'p-1', slotId: randomUUID() };
  const errorCode = o.errorCode ?? 503;
  const errorData = Buffer.from(JSON.stringify(PROBLEMS[errorCode] ?? { title: `HTTP ${errorCode}` })).toString('base64');
  const event = {
    specversion: '1.0', id: eventId, source: '/portal', type: eventType, time: new Date().toISOString(), datacontenttype: 'application/json',
    partitionkey: o.key ?? 'p-1', knativekafkapartition: '0', knativekafkaoffset: '42',
    knativeerrordest: o.dest, knativeerrorcode: String(errorCode), knativeerrordata: errorData,
    ...(o.truncated ? { data: JSON.stringify(data).slice(0, 20), datatruncated: true } : { data }),
  };
  return db().deadLetter.create({
    data: {
      eventId, eventSource: '/portal', eventType, topic: o.topic === undefined ? 'booking-requests' : o.topic,
      kafkaSource: o.kafkaSource === undefined ? 'booking-consumer-source' : o.kafkaSource, consumer: 'booking-consumer',
      errorDest: o.dest, errorCode, errorData, reason: PROBLEMS[errorCode] ? `${PROBLEMS[errorCode].title}: ${PROBLEMS[errorCode].detail}` : `HTTP ${errorCode}`,
      fingerprint: o.fingerprint ?? 'f00dfeedf00dfeed', event, truncated: o.truncated ?? false, system: o.system ?? 'booking-queue',
      partition: 0, offset: 42n, key: o.key === undefined ? 'p-1' : o.key, status: o.status ?? 'open', statusBy: 'intake',
      retries: o.retries ?? 0, nextRetryAt: o.nextRetryAt === undefined ? (o.status ?? 'open') === 'open' ? new Date(Date.now() + 60_000) : null : o.nextRetryAt,
      ...(o.receivedAt ? { receivedAt: o.receivedAt, lastSeenAt: o.receivedAt } : {}),
      ...(o.statusAt ? { statusAt: o.statusAt } : {}),
      history: { create: { kind: 'delivery', outcome: 'failed', by: 'booking-consumer-source', code: errorCode } },
    },
  });
}

/** A letter's history, oldest first, as [kind, outcome, by, code]. */
export async function historyOf(letterId: string) {
  const rows = await db().deadLetterAttempt.findMany({ where: { letterId }, orderBy: { id: 'asc' } });
  return rows.map((h) => [h.kind, h.outcome, h.by, h.code]);
}

/** Many alike letters at once (one statement), received `minutesAgo` before now: for volumes and ages. */
export async function keepMany(n: number, o: { fingerprint: string; minutesAgo: number; status?: DeadLetterStatus; system?: string; topic?: string }) {
  await db().$executeRaw`
    INSERT INTO dead_letter.dead_letter (id, event_id, event_source, event_type, topic, consumer, fingerprint, event, system, status, received_at, last_seen_at, status_at)
    SELECT gen_random_uuid(), 'many-' || gen_random_uuid(), '/portal', 'com.medlab.booking.requested', ${o.topic ?? 'booking-requests'}, 'booking-consumer',
      ${o.fingerprint}, '{}'::jsonb, ${o.system ?? 'booking-queue'}, ${o.status ?? 'parked'}::dead_letter.letter_status,
      now() - make_interval(mins => ${o.minutesAgo}), now() - make_interval(mins => ${o.minutesAgo}), now() - make_interval(mins => ${o.minutesAgo})
    FROM generate_series(1, ${n})`;
}
