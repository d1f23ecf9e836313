// Transactional outbox. A state change and the events it causes commit together; the events are published
// right after the commit, and the batch publisher (PingSource) sweeps whatever could not be sent then.
// Records go out in outbox order, stopping at the first failure, so one key's events never overtake
// each other and nothing is lost while Kafka is down.
import { randomUUID } from 'node:crypto';
import { Kafka as KafkaBinding, CloudEvent } from 'cloudevents';
import { db, type Tx } from './db';
import { bus, type Bus, type BusRecord } from './bus';
import { eventTypes, type EventData, type EventType } from './events/catalogue';
import { problemsOf, type JsonSchema } from './validate';
import { logger } from './log';

type EmitOne<T extends EventType> = (type: T, data: EventData<T>, options?: { subject?: string }) => Promise<void>;
type Overloads<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
/** emit(type, data): one overload per catalogue type, so data is checked against that type's schema. */
export type Emit = Overloads<{ [T in EventType]: EmitOne<T> }[EventType]>;

export interface OutboxRow {
  seq: bigint;
  id: string;
  topic: string;
  key: string;
  type: string;
  source: string;
  subject: string | null;
  time: Date;
  data: unknown;
}

const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };

/** Runs work in one database transaction; events it emits are stored with it and published after commit. */
export async function transaction<R>(source: string, work: (tx: Tx, emit: Emit) => Promise<R>): Promise<R> {
  let emitted = 0;
  const result = await db().$transaction(async (tx) => {
    const emit = (async (type: string, data: unknown, options?: { subject?: string }) => {
      const spec = (eventTypes as unknown as Record<string, { topic: string; key: string; schema: JsonSchema }>)[type];
      const problems = problemsOf(spec.schema, data, 'data');
      // A producer that breaks its own contract is a bug: fail the whole change rather than publish it.
      if (problems.length) throw new Error(`event ${type} does not match its schema: ${JSON.stringify(problems)}`);
      const key = String((data as Record<string, unknown>)[spec.key]);
      await tx.outboxEvent.create({
        data: { id: randomUUID(), topic: spec.topic, key, type, source, subject: options?.subject ?? null, data: data as object },
      });
      emitted++;
    }) as Emit;
    return work(tx, emit);
  }, TX_OPTIONS);
  if (emitted) publishSoon();
  return result;
}

export function toBusRecord(row: OutboxRow): BusRecord {
  const event = new CloudEvent({
    id: row.id,
    source: row.source,
    type: row.type,
    time: row.time.toISOString(),
    datacontenttype: 'application/json',
    ...(row.subject ? { subject: row.subject } : {}),
    partitionkey: row.key,
    data: row.data,
  }, false);
  const message = KafkaBinding.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = String(v);
  return {
    topic: row.topic,
    key: row.key,
    headers,
    value: typeof message.value === 'string' ? message.value : JSON.stringify(message.value),
  };
}


export interface PublishResult {
  published: number;
  locked: boolean;
  error?: string;
}

/** Publishes up to `limit` unsent events in outbox order. */
export async function publishPending(limit = 500, target: Bus = bus()): Promise<PublishResult> {
  // One publisher at a time across every replica (advisory lock namespace 1), so order is kept.
  return db().$transaction(async (tx) => {
    const [{ locked }] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(1, 0) AS locked`;
    if (!locked) return { published: 0, locked: false };
    const rows = await tx.$queryRaw<OutboxRow[]>`
      SELECT seq, id::text AS id, topic, key, type, source, subject, time, data
      FROM outbox_event WHERE published_at IS NULL ORDER BY seq LIMIT ${limit}`;
    if (!rows.length) return { published: 0, locked: true };
    const seqs = rows.map((r) => r.seq);
    try {
      await target.send(rows.map(toBusRecord));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await tx.$executeRaw`UPDATE outbox_event SET attempts = attempts + 1, last_error = ${message.slice(0, 1000)} WHERE seq = ANY(${seqs})`;
      return { published: 0, locked: true, error: message };
    }
    await tx.$executeRaw`UPDATE outbox_event SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY(${seqs})`;
    for (const r of rows) logger.info({ event: { id: r.id, type: r.type, topic: r.topic, key: r.key } }, 'event published');
    return { published: rows.length, locked: true };
  }, TX_OPTIONS);
}

/** Publishes until nothing is left, the bus fails, or another publisher holds the lock. */
export async function drainOutbox(target: Bus = bus()): Promise<PublishResult> {
  let total = 0;
  for (;;) {
    const r = await publishPending(500, target);
    total += r.published;
    if (r.error || !r.locked || r.published < 500) return { ...r, published: total };
  }
}

let running: Promise<void> | undefined;
let again = false;
let retryTimer: NodeJS.Timeout | undefined;

/** Post-commit publish: coalesced per process; a failure is left to the retry timer and the sweeper. */
export function publishSoon(): void {
  if (process.env.OUTBOX_PUBLISH_ON_COMMIT === 'false') return;
  if (running) {
    again = true;
    return;
  }
  running = (async () => {
    do {
      again = false;
      const r = await drainOutbox().catch((err) => ({ published: 0, locked: true, error: String(err) }) as PublishResult);
      if (r.error) {
        logger.warn({ err: r.error }, 'publishing after commit failed; the events stay in the outbox');
        scheduleRetry(5000);
        break;
      }
      if (!r.locked) scheduleRetry(250);
    } while (again);
  })().finally(() => {
    running = undefined;
  });
}

function scheduleRetry(ms: number): void {
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    publishSoon();
  }, ms);
  retryTimer.unref();
}

/** Waits for an in-flight post-commit publish (tests and shutdown use it). */
export async function settleOutbox(): Promise<void> {
  while (running) await running;
}
