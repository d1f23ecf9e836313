// Publishing a system's outbox to the bus, oldest first, stopping at the first failure, so one key's events
// never overtake each other and nothing is lost while Kafka is down. One publisher at a time per system
// (an advisory lock keyed by the system's schema): one system's Kafka trouble never holds another's.
import type { CloudEvent } from 'cloudevents';
import { db, tableOf } from './db';
import { bus, type Bus, type BusRecord } from './bus';
import { logger } from './log';
import { activeTraceCarrier, publishTraced, type TraceCarrier } from './telemetry';
import { awaitPublish, countPublished, countPublishFailure, publishBatch } from './metrics';
import type { System } from './system';

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
  traceparent?: string | null;
  tracestate?: string | null;
}

// The CloudEvents SDK loads when a function first publishes: most never do, and a cold start pays for every module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = (): typeof import('cloudevents') => require('cloudevents');

const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };
const outboxTable = (system: System) => tableOf(system, 'outbox_event');

/**
 * A CloudEvent as a Kafka record in the binding's binary mode: ce_* headers, the data as the value. Its
 * trace context (the CloudEvents distributed-tracing extension; an event without one gets the active
 * span's) travels twice: as ce_traceparent/ce_tracestate, which the KafkaSource passes through to the
 * consumer untouched, and as plain traceparent/tracestate headers, which Kafka-aware tracers follow.
 */
export function kafkaRecord(topic: string, key: string | null, event: CloudEvent<unknown>): BusRecord {
  const carried = typeof event.traceparent === 'string' ? { traceparent: event.traceparent, tracestate: typeof event.tracestate === 'string' ? event.tracestate : null } : activeTraceCarrier();
  const traced = carried && event.traceparent === undefined ? event.cloneWith(traceExtensions(carried), false) : event;
  const message = sdk().Kafka.binary(traced);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = String(v);
  if (carried) Object.assign(headers, traceExtensions(carried));
  return { topic, key, headers, value: typeof message.value === 'string' ? message.value : JSON.stringify(message.value) };
}

const traceExtensions = (c: TraceCarrier) => ({ traceparent: c.traceparent!, ...(c.tracestate ? { tracestate: c.tracestate } : {}) });

/** The Kafka record of an outbox row: its CloudEvent, keyed by its aggregate, in the trace it was emitted in. */
export function toBusRecord(row: OutboxRow, trace: TraceCarrier | undefined = row.traceparent ? row : undefined): BusRecord {
  return kafkaRecord(row.topic, row.key, new (sdk().CloudEvent)<unknown>({
    id: row.id,
    source: row.source,
    type: row.type,
    time: row.time.toISOString(),
    datacontenttype: 'application/json',
    ...(row.subject ? { subject: row.subject } : {}),
    partitionkey: row.key,
    ...(trace?.traceparent ? traceExtensions(trace) : {}),
    data: row.data,
  }, false));
}

export interface PublishResult {
  published: number;
  locked: boolean;
  error?: string;
}

/** Publishes up to `limit` unsent events of the system, in outbox order; `by` names the function it counts for. */
export async function publishPending(system: System, limit = 500, target: Bus = bus(), by?: string): Promise<PublishResult> {
  const table = outboxTable(system);
  return db().$transaction(async (tx) => {
    // The lock and the oldest unsent events in one round trip. An event committed while this statement began
    // is left for the next drain: its own transaction asks for one after it commits (publishSoon). FOR UPDATE
    // because the statement's snapshot is older than the lock: a publisher that committed in between left its
    // rows unsent in that snapshot, and FOR UPDATE rereads them as they are now (published: skipped), so no
    // event is sent twice.
    const found = await tx.$queryRaw<Array<{ locked: boolean } & OutboxRow>>`
      SELECT l.locked, o.* FROM (SELECT pg_try_advisory_xact_lock(1, hashtext(${system.schema})) AS locked) l
      LEFT JOIN LATERAL (
        SELECT seq, id::text AS id, topic, key, type, source, subject, time, data, traceparent, tracestate
        FROM ${table} WHERE l.locked AND published_at IS NULL ORDER BY seq LIMIT ${limit} FOR UPDATE) o ON true`;
    if (!found[0].locked) return { published: 0, locked: false };
    const rows: OutboxRow[] = found[0].seq === null ? [] : found;
    if (!rows.length) return { published: 0, locked: true };
    const seqs = rows.map((r) => r.seq);
    try {
      // Each event's publish span is a child of the trace it was emitted in (telemetry.ts says how a batch is sent).
      await publishTraced(rows.map(spanOf), (traces) => target.send(rows.map((r, i) => toBusRecord(r, traces[i]))));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      countPublishFailure(system, by);
      await tx.$executeRaw`UPDATE ${table} SET attempts = attempts + 1, last_error = ${message.slice(0, 1000)} WHERE seq = ANY(${seqs})`;
      return { published: 0, locked: true, error: message };
    }
    await tx.$executeRaw`UPDATE ${table} SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY(${seqs})`;
    for (const r of rows) logger.info({ event: { id: r.id, type: r.type, topic: r.topic, key: r.key } }, 'event published');
    countPublished(system, rows, by);
    return { published: rows.length, locked: true };
  }, TX_OPTIONS);
}

/** What the publish span of a row says: ids and where it goes, never its data. */
const spanOf = (r: OutboxRow) => ({
  parent: r,
  name: `publish ${r.type}`,
  attributes: {
    'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': r.topic,
    'cloudevents.event_id': r.id, 'cloudevents.event_type': r.type, 'cloudevents.event_source': r.source,
  },
});

/** Publishes until nothing is left, the bus fails, or another publisher holds the lock. */
export async function drainOutbox(system: System, target: Bus = bus(), by?: string): Promise<PublishResult> {
  let total = 0;
  for (;;) {
    const r = await publishPending(system, 500, target, by);
    total += r.published;
    if (r.error || !r.locked || r.published < 500) return { ...r, published: total };
  }
}

/** Events of the system still waiting to be published. */
export async function outboxBacklog(system: System): Promise<number> {
  const [{ n }] = await db().$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM ${outboxTable(system)} WHERE published_at IS NULL`;
  return Number(n);
}

interface Loop {
  running?: Promise<void>;
  again: boolean;
  retryTimer?: NodeJS.Timeout;
}
const loops = new Map<string, Loop>();

/**
 * Post-commit publish: coalesced per system and process; a failure is left to the retry timer and the sweeper.
 * `source` (/<system>/<function>) is who committed: their publish phase runs from now until a drain sends it.
 */
export function publishSoon(system: System, source?: string): void {
  if (process.env.OUTBOX_PUBLISH_ON_COMMIT === 'false') return;
  awaitPublish(system, source);
  let loop = loops.get(system.schema);
  if (!loop) loops.set(system.schema, (loop = { again: false }));
  if (loop.running) {
    loop.again = true;
    return;
  }
  const l = loop;
  l.running = (async () => {
    do {
      l.again = false;
      const batch = publishBatch(system);
      const r = await drainOutbox(system, bus(), batch.by).catch((err) => ({ published: 0, locked: true, error: String(err) }) as PublishResult);
      if (!r.error) (r.locked ? batch.published : batch.retry)();
      if (r.error) {
        logger.warn({ system: system.name, err: r.error }, 'publishing after commit failed; the events stay in the outbox');
        retryLater(system, l, 5000);
        break;
      }
      if (!r.locked) retryLater(system, l, 250);
    } while (l.again);
  })().finally(() => {
    l.running = undefined;
  });
}

function retryLater(system: System, loop: Loop, ms: number): void {
  if (loop.retryTimer) return;
  loop.retryTimer = setTimeout(() => {
    loop.retryTimer = undefined;
    publishSoon(system);
  }, ms);
  loop.retryTimer.unref();
}

/** Waits for in-flight post-commit publishes (tests and shutdown use it). */
export async function settleOutbox(): Promise<void> {
  for (;;) {
    const running = [...loops.values()].map((l) => l.running).filter(Boolean);
    if (!running.length) return;
    await Promise.all(running);
  }
}
