// What the redrive tests share: booking requests as a producer put them on booking-requests (the in-process
// bus), the dead letters Knative's delivery makes of them at the intake (where each record sat included), and
// a clock that moves only when the runner sleeps (pacing asserted without timing).
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { db } from '../../functions/shared/db';
import { kafkaRecord } from '../../functions/shared/publisher';
import { createTask, runnerId, runTask, type Clock } from '../../functions/dead-letter/redrive-task';
import { memoryBus } from '../../scripts/lib/laptop/memory-bus';
import { deliver } from './fixtures';

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

export interface Original {
  id: string;
  source: string;
  type: string;
  key: string;
  partition: number;
  offset: number;
  data: Record<string, unknown>;
}

/** Booking requests put on booking-requests, each on the partition given (in order), as binary CloudEvents. */
export function produce(requests: Array<{ key: string; partition: number; data?: Record<string, unknown> }>): Original[] {
  return requests.map((r) => {
    const data = r.data ?? { requestId: randomUUID(), patientId: r.key, slotId: randomUUID() };
    const event = new CloudEvent<unknown>({ id: randomUUID(), source: '/portal', type: 'com.medlab.booking.requested', datacontenttype: 'application/json', partitionkey: r.key, traceparent: TRACEPARENT, data });
    const [at] = memoryBus.append([{ ...kafkaRecord('booking-requests', r.key, event), partition: r.partition }]);
    return { id: event.id, source: event.source, type: event.type, key: r.key, partition: at.partition, offset: at.offset, data };
  });
}

/** booking-consumer refusing an original, as Knative's delivery reports it to the intake; answers the letter's id. */
export async function deadLetter(intakeUrl: string, o: Original, extra: Record<string, string> = {}): Promise<string> {
  const res = await deliver(`${intakeUrl}/?kafkasource=booking-consumer-source`, { id: o.id, source: o.source, type: o.type, data: o.data }, {
    'ce-partitionkey': o.key,
    'ce-traceparent': TRACEPARENT,
    'ce-knativeerrordest': 'http://booking-consumer.patient-portal.svc.cluster.local',
    'ce-knativeerrorcode': '422',
    'ce-knativeerrordata': Buffer.from(JSON.stringify({ title: 'Unprocessable Event', detail: 'no such slot' })).toString('base64'),
    'ce-knativekafkapartition': String(o.partition),
    'ce-knativekafkaoffset': String(o.offset),
    ...extra,
  });
  if (res.status !== 201) throw new Error(`the intake answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.deadLetterId as string;
}

/**
 * `n` letters of booking requests kept on `topic` as the intake keeps them, written straight to the table (as
 * many as a large redrive takes, without an intake request each); parked, in group `group`. Answers their event ids.
 */
export async function keepLetters(n: number, topic: string, group: string): Promise<string[]> {
  const rows = await db().$queryRaw<Array<{ id: string }>>`
    INSERT INTO dead_letter.dead_letter (id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code,
      reason, fingerprint, event, system, partition, kafka_offset, record_key, status, status_by)
    SELECT gen_random_uuid(), e.id, '/portal', 'com.medlab.booking.requested', ${topic}, 'booking-consumer-source', 'booking-consumer',
      'http://booking-consumer.patient-portal.svc.cluster.local', 422, 'no such slot', ${group},
      jsonb_build_object('id', e.id, 'source', '/portal', 'type', 'com.medlab.booking.requested', 'specversion', '1.0',
        'datacontenttype', 'application/json', 'partitionkey', e.key, 'knativeerrorcode', '422',
        'data', jsonb_build_object('requestId', gen_random_uuid(), 'patientId', e.key, 'slotId', gen_random_uuid())),
      'booking-queue', e.i % 3, e.i / 3, e.key, 'parked', 'intake'
    FROM (SELECT i, gen_random_uuid()::text AS id, 'p-' || (i % 7) AS key FROM generate_series(0, ${n - 1}) AS i) e
    RETURNING event_id AS id`;
  return rows.map((r) => r.id);
}

/**
 * The database refuses to record a redrive's batches after item `seq` (a trigger), as if its runner's process
 * died each time between Kafka's ack and its commit. Answers how to let it record again.
 */
export async function refuseBatchesAfter(seq: number): Promise<() => Promise<void>> {
  await db().$executeRawUnsafe(`CREATE OR REPLACE FUNCTION dead_letter.refuse_batch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.through_seq > ${Number(seq)} THEN RAISE EXCEPTION 'the runner died before its commit'; END IF; RETURN NEW; END $$`);
  await db().$executeRawUnsafe('CREATE TRIGGER refuse_batch BEFORE INSERT ON dead_letter.redrive_batch FOR EACH ROW EXECUTE FUNCTION dead_letter.refuse_batch()');
  return async () => {
    await db().$executeRawUnsafe('DROP TRIGGER refuse_batch ON dead_letter.redrive_batch');
  };
}

/**
 * A runner that redrives `group` at full speed (batches of 500, the next ones sent while the last ones'
 * commits are in flight) and dies between Kafka's acks and its commits after the first batch: the task it
 * leaves behind, its lease still held, its later batches on the topic but unrecorded.
 */
export async function runnerDiedUnrecorded(group: string) {
  const owner = runnerId();
  const task = (await db().$transaction((tx) => createTask(tx, { group }, 1_000_000, 'staff:ops-1', owner)))!;
  const recordAgain = await refuseBatchesAfter(500);
  try {
    await assert.rejects(runTask(task.id, { owner, rateCap: Infinity }), /the runner died before its commit/);
  } finally {
    await recordAgain();
  }
  return task;
}

/** The group (fingerprint) of a letter. */
export async function groupOf(letterId: string): Promise<string> {
  return (await db().deadLetter.findUniqueOrThrow({ where: { id: letterId } })).fingerprint;
}

/** Records republished on a topic after the originals (those with these event ids), in log order per partition. */
export function redriven(topic: string, ids: Set<string>, since: Map<number, number>) {
  return memoryBus.log(topic).flatMap((records, partition) => records.filter((r) => r.offset >= (since.get(partition) ?? 0) && ids.has(r.headers.ce_id)));
}

/** Where each partition of a topic ends now (records appended later are at or past it). */
export function ends(topic: string): Map<number, number> {
  return new Map(memoryBus.log(topic).map((records, partition) => [partition, records.length]));
}

/** A clock that moves only when the runner sleeps; `onSleep` runs (once per sleep) before it returns. */
export function fakeClock(onSleep?: (n: number) => Promise<void> | void): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
      await onSleep?.(slept.length);
    },
  };
}
