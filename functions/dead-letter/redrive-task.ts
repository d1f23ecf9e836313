// Redrive: dead letters republished to the topics they came from, as a task operators can list, watch and
// cancel (SQS's redrive, for CloudEvents on Kafka). Each letter's kept event goes out exactly as it was, with
// the record key it had, in the order the letters sat on their partitions, at a bounded rate. The task is
// the truth of what went out: its items in sending order, a cursor through them moved by each batch, and
// the letters skipped with the reason. Whoever runs it holds a lease; a runner that takes a task over first
// finds on the topics the records its predecessor sent but did not record (each carries a mark naming its
// item), so a runner killed half-way is resumed by the next one and nothing is sent twice.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { RedriveTask } from '../shared/generated/prisma/client';
import { db, tableOf, Prisma, type Tx } from '../shared/db';
import { bus, type Bus, type BusRecord, type KeysAfter, type RecordPlace } from '../shared/bus';
import { logger, type Logger } from '../shared/log';
import { keptData, letters, UNRESOLVED, waiting } from './letters';
import { system } from './system';

/** SQS redrives at most 500 messages a second; so do we, unless a caller lifts the cap on purpose (the bench). */
export const MAX_RATE = 500;
export const DEFAULT_RATE = 100;
/** A runner renews its lease with every batch; one that stops renewing (killed) loses it after this long. */
export const LEASE_MS = 60_000;
/** At most this many records of a partition are read to find newer events of a letter's key (dry run). */
export const PLAN_READ_CAP = 10_000;
/**
 * The header every redriven record carries, `<task id>:<item seq>`: a runner taking a task over looks for it to
 * find what its predecessor sent but never recorded. Consumers ignore it (a CloudEvent is its ce_ headers; a
 * wrapped record shows it as one more kafkaheader extension).
 */
export const MARK_HEADER = 'medlab-redrive-item';
/** At most this many records of each partition are read when taking a task over (those since its last recorded batch). */
export const TAKEOVER_READ_CAP = Number(process.env.REDRIVE_TAKEOVER_READ_CAP ?? 100_000);
/** How often a runner notes where its topics' partitions end, so a takeover never reads further back than this on them. */
const ENDS_EVERY_MS = 10_000;

const tasks = tableOf(system, 'redrive_task');
const items = tableOf(system, 'redrive_item');
const batches = tableOf(system, 'redrive_batch');

/** An item of `t` not sent yet: pending, and past the task's cursor. */
const notYetSent = (i: Prisma.Sql, t: Prisma.Sql) => Prisma.sql`${i}.status = 'pending' AND ${i}.seq > ${t}.sent_through`;

export type Selection = { letterIds: string[] } | { group: string };

// ---------- which letters, in which order ----------

/**
 * Letters of the selection still waiting (open, retrying, parked) and not already waiting in a running
 * redrive: a second click on the same group takes nothing twice.
 */
function selectable(s: Selection): Prisma.Sql {
  const which = 'letterIds' in s ? Prisma.sql`l.id = ANY(${s.letterIds}::uuid[])` : Prisma.sql`l.fingerprint = ${s.group}`;
  return Prisma.sql`${which} AND ${waiting(Prisma.sql`l.status`)} AND NOT EXISTS (
    SELECT 1 FROM ${items} i JOIN ${tasks} t ON t.id = i.task_id
    WHERE i.letter_id = l.id AND ${notYetSent(Prisma.sql`i`, Prisma.sql`t`)} AND t.status = 'running')`;
}

/** Sending order: each partition's letters by offset (one key's events stay in order), then by arrival. */
const SENDING_ORDER = Prisma.sql`l.topic NULLS LAST, l.partition NULLS LAST, l.kafka_offset NULLS LAST, l.received_at, l.id`;

/** Why a letter cannot go out as it was kept, or undefined when it can. */
function unsendable(l: { topic: string | null; truncated: boolean }): string | undefined {
  if (l.truncated) return 'its event was kept truncated: republishing it would send a different event';
  if (!l.topic) return 'the topic it came from is not known';
  return undefined;
}

// ---------- the kept event as the record it was ----------

/** What Knative's delivery added to the event (the failure, where the record sat): not part of the event. */
const fromDelivery = (name: string) => name.startsWith('knativeerror') || name === 'knativekafkapartition' || name === 'knativekafkaoffset';
/** Members of a kept event that are not attributes: its data, and the intake's flag for data cut short. */
const NOT_ATTRIBUTES = new Set(['data', 'data_base64', 'datatruncated']);
/** A Kafka record that was not a CloudEvent, as the KafkaSource wrapped it. */
const WRAPPED_RECORD = 'dev.knative.kafka.event';
const HEADER_EXTENSION = 'kafkaheader';
/** A wrapped record redriven before carried the mark of that redrive: it is not part of the record. */
const OLD_MARK = `${HEADER_EXTENSION}${MARK_HEADER.replace(/[^a-z0-9]/g, '')}`;

/** The record's value: the event's data as the bytes it arrived as; no data (or null), no value. */
const valueOf = (data: unknown, base64: unknown, contentType: unknown): string | Buffer | null =>
  (data === null && base64 === undefined ? null : keptData(data, base64, contentType) ?? null);

/**
 * The Kafka record a letter's kept event was: a CloudEvent in the binding's binary mode, exactly as the outbox
 * publishes one (kafkaRecord(): every attribute and extension, traceparent included, as a ce_ header, the
 * content type as content-type, the trace context also as plain traceparent/tracestate headers, the data as
 * the value); or, for a plain record the KafkaSource wrapped, its value with its headers back from the
 * kafkaheader* extensions. What the delivery added (knativeerror*, knativekafkapartition/offset) is left out.
 * Mapped here rather than through the SDK's CloudEvent: the kept event is already its attributes as JSON, and
 * a redrive builds thousands a second. An event that carried no trace context goes out without one.
 */
export function recordOf(topic: string, key: string | null, event: Record<string, unknown>): BusRecord {
  const headers: Record<string, string> = {};
  const contentType = event.datacontenttype;
  if (contentType !== undefined && contentType !== null) headers['content-type'] = String(contentType);
  const wrapped = event.type === WRAPPED_RECORD;
  for (const name in event) {
    const v = event[name];
    if (v === undefined || v === null || NOT_ATTRIBUTES.has(name) || fromDelivery(name)) continue;
    if (!wrapped) headers[`ce_${name}`] = String(v);
    else if (name.startsWith(HEADER_EXTENSION) && name !== OLD_MARK) headers[name.slice(HEADER_EXTENSION.length)] = String(v);
  }
  if (!wrapped && headers.ce_traceparent !== undefined) {
    headers.traceparent = headers.ce_traceparent;
    if (headers.ce_tracestate !== undefined) headers.tracestate = headers.ce_tracestate;
  }
  return { topic, key, headers, value: valueOf(event.data, event.data_base64, contentType) };
}

// ---------- the dry run ----------

interface PlannedLetter {
  id: string;
  topic: string | null;
  key: string | null;
  partition: number | null;
  offset: bigint | null;
  truncated: boolean;
}

export interface PlanView {
  dryRun: true;
  total: number;
  topics: Array<{ topic: string; count: number }>;
  letters: Array<{ letterId: string; topic: string | null; key: string | null; partition: number | null; warning?: string }>;
  warnings: number;
}

const unknown = (why: string) => `unknown: ${why}`;

/**
 * What a redrive of the selection would send where, in order, and for each letter whether newer events of its
 * key already went through on its partition after it (redriving it would put an old event after them). Records
 * at the offsets of letters still waiting did not go through; resolved ones did (their retry or redrive
 * delivered them). When the bus cannot read its topics, or a read stops at its cap, the answer is "unknown".
 */
export async function plan(selection: Selection, target: Bus = bus(), cap = PLAN_READ_CAP): Promise<PlanView> {
  const picked = await db().$queryRaw<PlannedLetter[]>`
    SELECT l.id::text AS id, l.topic, l.record_key AS key, l.partition, l.kafka_offset AS offset, l.truncated
    FROM ${letters} l WHERE ${selectable(selection)} ORDER BY ${SENDING_ORDER}`;
  const warnings = new Map<string, string>();
  const placed = picked.filter((l) => {
    const skip = unsendable(l);
    if (skip) warnings.set(l.id, `will be skipped: ${skip}`);
    else if (l.key !== null && (l.partition === null || l.offset === null)) warnings.set(l.id, unknown(`where the event sat on ${l.topic} is not known`));
    return !skip && l.key !== null && l.partition !== null && l.offset !== null;
  });
  for (const [topic, group] of groupBy(placed, (l) => l.topic!)) {
    for (const [id, warning] of await newerOfKeys(topic, group, target, cap)) warnings.set(id, warning);
  }
  const counts = new Map<string, number>();
  for (const l of picked) if (!unsendable(l)) counts.set(l.topic!, (counts.get(l.topic!) ?? 0) + 1);
  return {
    dryRun: true,
    total: picked.length,
    topics: [...counts].map(([topic, count]) => ({ topic, count })),
    letters: picked.map((l) => ({ letterId: l.id, topic: l.topic, key: l.key, partition: l.partition, ...(warnings.has(l.id) ? { warning: warnings.get(l.id) } : {}) })),
    warnings: warnings.size,
  };
}

function groupBy<T, K>(list: T[], keyOf: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of list) out.set(keyOf(t), [...(out.get(keyOf(t)) ?? []), t]);
  return out;
}

/** Warnings for letters of one topic (each with a key and a position) whose key has newer events that went through. */
async function newerOfKeys(topic: string, group: PlannedLetter[], target: Bus, cap: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!target.keysAfter) {
    for (const l of group) out.set(l.id, unknown('this bus cannot tell whether newer events of the key went through'));
    return out;
  }
  const after = new Map<number, number>();
  for (const l of group) after.set(l.partition!, Math.min(after.get(l.partition!) ?? Infinity, Number(l.offset)));
  let read: Map<number, KeysAfter>;
  try {
    read = await target.keysAfter(topic, after, new Set(group.map((l) => l.key!)), cap);
  } catch (err) {
    for (const l of group) out.set(l.id, unknown(`${topic} could not be read (${String((err as Error).message ?? err).slice(0, 200)})`));
    return out;
  }
  const candidates = group.flatMap((l) => (read.get(l.partition!)?.offsets.get(l.key!) ?? []).filter((o) => o > Number(l.offset)).map((o) => [l.partition!, o] as const));
  const waiting = await waitingAt(topic, candidates);
  for (const l of group) {
    const reading = read.get(l.partition!);
    const newer = (reading?.offsets.get(l.key!) ?? []).filter((o) => o > Number(l.offset) && !waiting.has(`${l.partition}/${o}`));
    if (newer.length) {
      const shown = newer.slice(0, 5).join(', ') + (newer.length > 5 ? ` and ${newer.length - 5} more` : '');
      out.set(l.id, `newer events of this key already went through after offset ${l.offset} on partition ${l.partition} (offset ${shown}): redriving it puts an older event after them`);
    } else if (!reading?.complete) {
      out.set(l.id, unknown(`${reading?.read ?? 0} records after offset ${l.offset} on partition ${l.partition} were read without finding a newer event of this key, and the read stopped before the end`));
    }
  }
  return out;
}

/** Positions ("partition/offset") among these whose record is a letter still waiting: it did not go through. */
async function waitingAt(topic: string, positions: ReadonlyArray<readonly [number, number]>): Promise<Set<string>> {
  if (!positions.length) return new Set();
  const rows = await db().$queryRaw<Array<{ at: string }>>`
    SELECT l.partition || '/' || l.kafka_offset AS at FROM ${letters} l
    JOIN unnest(${positions.map((p) => p[0])}::int[], ${positions.map((p) => String(p[1]))}::bigint[]) AS p(partition, kafka_offset)
      ON l.partition = p.partition AND l.kafka_offset = p.kafka_offset
    WHERE l.topic = ${topic} AND l.status <> 'resolved'`;
  return new Set(rows.map((r) => r.at));
}

// ---------- the task ----------

const TASK_COLUMNS = Prisma.sql`id::text AS id, status, selection, rate_per_second AS "ratePerSecond", total, sent, skipped,
  created_by AS "createdBy", created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt",
  lease_owner AS "leaseOwner", lease_until AS "leaseUntil", error, sent_through AS "sentThrough", unconfirmed_from AS "unconfirmedFrom"`;

/** A task as the API shows it. */
export function taskView(t: RedriveTask) {
  return {
    id: t.id,
    status: t.status,
    selection: t.selection,
    ratePerSecond: t.ratePerSecond,
    total: t.total,
    sent: t.sent,
    skipped: t.skipped,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    finishedAt: t.finishedAt?.toISOString() ?? null,
    error: t.error,
  };
}

/** Who runs a task: this process, once per runner (the lease names it). */
export const runnerId = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * Creates the task with its items in sending order, leased to `owner` (who starts running it at once), or
 * answers undefined when no letter of the selection is waiting. Creations take turns (an advisory lock), so
 * two operators redriving the same group at once do not both take its letters.
 */
export async function createTask(tx: Tx, selection: Selection, ratePerSecond: number, by: string, owner: string): Promise<RedriveTask | undefined> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(8, hashtext('dead_letter.redrive_task'))`;
  const [task] = await tx.$queryRaw<RedriveTask[]>`
    WITH picked AS (
      SELECT l.id, row_number() OVER (ORDER BY ${SENDING_ORDER}) AS seq FROM ${letters} l WHERE ${selectable(selection)}
    ), task AS (
      INSERT INTO ${tasks} (id, selection, rate_per_second, total, created_by, lease_owner, lease_until)
      SELECT ${randomUUID()}::uuid, ${JSON.stringify(selection)}::jsonb, ${ratePerSecond}, count(*), ${by}, ${owner}, now() + make_interval(secs => ${LEASE_MS / 1000})
      FROM picked HAVING count(*) > 0
      RETURNING *
    ), queued AS (
      INSERT INTO ${items} (task_id, letter_id, seq) SELECT task.id, picked.id, picked.seq FROM picked, task
    )
    SELECT ${TASK_COLUMNS} FROM task`;
  return task;
}

export async function findTask(id: string): Promise<RedriveTask | undefined> {
  const [task] = await db().$queryRaw<RedriveTask[]>`SELECT ${TASK_COLUMNS} FROM ${tasks} WHERE id = ${id}::uuid`;
  return task;
}

export function newestTasks(limit: number): Promise<RedriveTask[]> {
  return db().$queryRaw<RedriveTask[]>`SELECT ${TASK_COLUMNS} FROM ${tasks} ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
}

/** Letters the task skipped and why (the first `limit`, in sending order). */
export function skippedLetters(taskId: string, limit: number): Promise<Array<{ letterId: string; reason: string | null }>> {
  return db().$queryRaw`SELECT letter_id::text AS "letterId", reason FROM ${items} WHERE task_id = ${taskId}::uuid AND status = 'skipped' ORDER BY seq LIMIT ${limit}`;
}

/**
 * A letter's redrives as lines of its history: each time a task sent it, when (its batch's time, or the
 * record's own when a runner found it on the topic), in whose name, to which topic.
 */
export async function redriveHistory(tx: Tx, letterId: string, topic: string | null) {
  const sends = await tx.$queryRaw<Array<{ at: Date; by: string; taskId: string }>>`
    SELECT coalesce(i.sent_at, b.sent_at, t.updated_at) AS at, t.created_by AS by, t.id::text AS "taskId"
    FROM ${items} i JOIN ${tasks} t ON t.id = i.task_id
    LEFT JOIN LATERAL (SELECT sent_at FROM ${batches} b WHERE b.task_id = i.task_id AND b.through_seq >= i.seq ORDER BY b.through_seq LIMIT 1) b ON true
    WHERE i.letter_id = ${letterId}::uuid AND (i.status = 'sent' OR (i.status = 'pending' AND i.seq <= t.sent_through))`;
  return sends.map((s) => ({ at: s.at, kind: 'redrive' as const, outcome: 'sent' as const, by: s.by, code: null, reason: `republished to ${topic} (redrive ${s.taskId})` }));
}

/** Cancels a running task: its runner stops before its next batch. Undefined when there is no running task by that id. */
export async function cancelTask(id: string, by: string): Promise<RedriveTask | undefined> {
  const [task] = await db().$queryRaw<RedriveTask[]>`
    UPDATE ${tasks} SET status = 'cancelled', finished_at = now(), updated_at = now(), lease_owner = NULL, lease_until = NULL,
      error = ${`cancelled by ${by}`}
    WHERE id = ${id}::uuid AND status = 'running'
    RETURNING ${TASK_COLUMNS}`;
  return task;
}

// ---------- the runner ----------

/** Time as the runner paces itself by; tests give it one that only moves when it sleeps. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  }),
};

export interface RunOptions {
  /** The lease owner this runner is (createTask's owner, when the creator runs it). */
  owner?: string;
  /** Where records go (default: bus()). */
  target?: Bus;
  clock?: Clock;
  /** Stops between batches, leaving the lease to expire: what a killed runner leaves behind. */
  signal?: AbortSignal;
  /** Stops at this time (clock.now()) between batches and gives the lease back: the worker's share of a ping. */
  until?: number;
  /** The highest rate honoured (MAX_RATE). Only a benchmark lifts it, and says so. */
  rateCap?: number;
  log?: Logger;
}

/**
 * unreconciled: taking the task over, the runner could not tell which records the runner before it had sent
 * without recording them (the topic could not be read, or not to its end), so it sent nothing.
 */
export type RunEnd = 'completed' | 'not-running' | 'lease-held' | 'aborted' | 'paused' | 'send-failed' | 'unreconciled' | 'failed';

export interface RunResult {
  end: RunEnd;
  sent: number;
  skipped: number;
  batches: number;
  /** Records the runner before had sent without recording them, found on the topics when taking the task over. */
  found: number;
  /** Time spent waiting for the bus to take the batches (the rest went to reading, recording and the rate). */
  sendingMs: number;
}

interface ItemRow {
  seq: number;
  letterId: string;
  status: string | null;
  topic: string | null;
  key: string | null;
  truncated: boolean | null;
  event: Record<string, unknown> | null;
}

/**
 * For each topic and partition, the offset from which records of the task may sit that no batch has recorded
 * (redrive_task.unconfirmed_from): below it, every record of the task on that partition is recorded.
 */
type Floor = Record<string, Record<string, number>>;

/** Raises a floor to where a partition ends, or to just past a record that landed: the higher offset wins. */
function raise(floor: Floor, topic: string, partition: number, offset: number): void {
  const partitions = (floor[topic] ??= {});
  if (!(partitions[partition] >= offset)) partitions[partition] = offset;
}

/** Batch commits a runner may have in flight while it sends on: their letters resolved side by side, the cursor moved in turn. */
const COMMITS_IN_FLIGHT = 3;

/** Records per batch: about a fifth of a second's worth, at least one, at most 500 (one send, one commit). */
export const batchSize = (rate: number) => Math.max(1, Math.min(500, Math.ceil(rate / 5)));

interface TaskTerms { ratePerSecond: number; createdBy: string; sentThrough: number; unconfirmedFrom: Floor | null }

/**
 * Takes the lease of a running task: free, expired, or already ours (each commit renews it after that).
 * Undefined when the task is not running (finished, cancelled) or another runner holds it.
 */
async function lease(taskId: string, owner: string): Promise<TaskTerms | undefined> {
  const [row] = await db().$queryRaw<TaskTerms[]>`
    UPDATE ${tasks} SET lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${LEASE_MS / 1000}), updated_at = now()
    WHERE id = ${taskId}::uuid AND status = 'running' AND (lease_owner = ${owner} OR lease_owner IS NULL OR lease_until < now())
    RETURNING rate_per_second AS "ratePerSecond", created_by AS "createdBy", sent_through AS "sentThrough", unconfirmed_from AS "unconfirmedFrom"`;
  return row;
}

/** Why a runner may not go on: the task finished or cancelled, or another runner holds it. */
async function whyNot(taskId: string, owner: string): Promise<RunEnd> {
  const now = await findTask(taskId);
  return now?.status === 'running' && now.leaseOwner !== owner ? 'lease-held' : 'not-running';
}

/**
 * Gives the lease back, so the next runner need not wait for it to expire. `allRecorded`: every record this
 * runner sent is recorded (no send failed half-way), so the next runner need not look for any.
 */
async function release(taskId: string, owner: string, { error, allRecorded = false }: { error?: string; allRecorded?: boolean }): Promise<void> {
  await db().$executeRaw`
    UPDATE ${tasks} SET lease_owner = NULL, lease_until = NULL, updated_at = now(), error = coalesce(${error ?? null}, error),
      unconfirmed_from = CASE WHEN ${allRecorded} THEN NULL ELSE unconfirmed_from END
    WHERE id = ${taskId}::uuid AND lease_owner = ${owner}`;
}

interface NextBatch {
  /** The task still running (not cancelled) and the lease still this runner's: it may send these. */
  ours: boolean;
  items: ItemRow[];
  /** When it was read (Date.now()). */
  readAt: number;
}

/**
 * The next pending items after `after` in sending order, with their letters as they are now (a letter removed
 * since: none), and whether the runner may send them. A read, so it never waits for a commit in flight.
 */
async function nextBatch(taskId: string, owner: string, limit: number, after: number): Promise<NextBatch> {
  const readAt = Date.now();
  const rows = await db().$queryRaw<Array<ItemRow & { ours: boolean }>>`
    SELECT t.ours, i.seq, i."letterId", i.status, i.topic, i.key, i.truncated, i.event
    FROM (SELECT status = 'running' AND lease_owner = ${owner} AND lease_until > now() AS ours FROM ${tasks} WHERE id = ${taskId}::uuid) t
    LEFT JOIN LATERAL (
      SELECT i.seq, i.letter_id::text AS "letterId", l.status::text AS status, l.topic, l.record_key AS key, l.truncated, l.event
      FROM ${items} i LEFT JOIN ${letters} l ON l.id = i.letter_id
      WHERE t.ours AND i.task_id = ${taskId}::uuid AND i.status = 'pending' AND i.seq > ${after}
      ORDER BY i.seq LIMIT ${limit}
    ) i ON true
    ORDER BY i.seq`;
  return { ours: !!rows[0]?.ours, items: rows.filter((r) => r.seq !== null), readAt };
}

/** A batch read ahead is sent only this soon after it was read (the check that the task is still ours with it). */
const AHEAD_FRESH_MS = 5_000;

/** The topics the task's items not yet sent go to. */
async function remainingTopics(taskId: string): Promise<string[]> {
  const rows = await db().$queryRaw<Array<{ topic: string }>>`
    SELECT DISTINCT l.topic FROM ${items} i JOIN ${tasks} t ON t.id = i.task_id JOIN ${letters} l ON l.id = i.letter_id
    WHERE i.task_id = ${taskId}::uuid AND ${notYetSent(Prisma.sql`i`, Prisma.sql`t`)} AND l.topic IS NOT NULL
    ORDER BY l.topic`;
  return rows.map((r) => r.topic);
}

const WAITING = new Set<string>(UNRESOLVED);

function skipReason(item: ItemRow): string | undefined {
  if (item.status === null) return 'the letter no longer exists';
  if (!WAITING.has(item.status)) return `the letter was ${item.status} when its turn came`;
  return unsendable({ topic: item.topic, truncated: !!item.truncated });
}

/**
 * Letters whose records went out: resolved by redrive, in the name of the task's creator. (The ids travel as
 * one text parameter: a driver takes one string of 500 ids far more cheaply than 500 strings.)
 */
function resolveLetters(tx: Pick<Tx, '$executeRaw'>, taskId: string, by: string, ids: string[]): Promise<number> {
  return tx.$executeRaw`
    UPDATE ${letters} SET status = 'resolved', resolution = 'redrive', status_by = ${by}, status_at = now(), next_retry_at = NULL,
      status_reason = 'redriven to ' || topic || ' (redrive ' || ${taskId} || ')'
    WHERE id = ANY(string_to_array(${ids.join(',')}, ',')::uuid[]) AND status <> 'resolved'`;
}

const LEASE_RENEWED = Prisma.sql`now() + make_interval(secs => ${LEASE_MS / 1000})`;

interface Batch {
  /** The seq of its last item: everything up to it went out, or was skipped. */
  through: number;
  sent: string[];
  skipped: Array<{ letterId: string; reason: string }>;
  /** The runner's floor once the batch was sent (JSON). */
  floor: string;
}

/**
 * Records a batch: its letters resolved (side by side with the batch before: they did go out, whatever happens
 * next), then, once the batch before has moved it, in one statement the task's cursor moved past it with its
 * counts, its skipped items with their reasons, the runner's floor, the batch's time, the lease renewed.
 * Batches move the cursor in the order they were sent, so everything up to it did go out. A runner whose lease
 * another runner took moves nothing: that runner finds the records on the topics (and their letters resolved).
 */
async function commitBatch(taskId: string, owner: string, by: string, batch: Batch, before: Promise<void> | undefined): Promise<void> {
  if (batch.sent.length) await resolveLetters(db(), taskId, by, batch.sent);
  await before;
  const [{ moved }] = await db().$queryRaw<Array<{ moved: boolean }>>`
    WITH moved AS (
      UPDATE ${tasks} SET sent_through = ${batch.through}, sent = sent + ${batch.sent.length}, skipped = skipped + ${batch.skipped.length},
        unconfirmed_from = ${batch.floor}::jsonb, updated_at = now(),
        error = CASE WHEN status = 'running' THEN NULL ELSE error END,
        lease_until = CASE WHEN lease_owner = ${owner} THEN ${LEASE_RENEWED} ELSE lease_until END
      WHERE id = ${taskId}::uuid AND sent_through < ${batch.through}
        AND (lease_owner = ${owner} OR (lease_owner IS NULL AND status <> 'running'))
      RETURNING id
    ), skipped AS (
      UPDATE ${items} i SET status = 'skipped', reason = s.reason
      FROM unnest(${batch.skipped.map((s) => s.letterId)}::uuid[], ${batch.skipped.map((s) => s.reason)}::text[]) AS s(letter_id, reason)
      WHERE i.task_id = ${taskId}::uuid AND i.letter_id = s.letter_id AND i.status = 'pending' AND EXISTS (SELECT 1 FROM moved)
    ), noted AS (
      INSERT INTO ${batches} (task_id, through_seq) SELECT id, ${batch.through} FROM moved
    )
    SELECT EXISTS (SELECT 1 FROM moved) AS moved`;
  if (!moved) throw new Error(`redrive ${taskId}: the batch through item ${batch.through} was not recorded: another runner holds the task now`);
}

/** Why the runner taking a task over cannot tell what the runner before it sent. */
class Unreconciled extends Error {}

/**
 * The task's records on its topics that no batch recorded: read on each partition of each topic from the floor
 * the last recorded batch left (`from`) to its end. Answers the items found (seq → when sent) and the ends read
 * to. Throws Unreconciled when it cannot tell.
 */
async function unrecorded(taskId: string, from: Floor, topics: string[], target: Bus): Promise<{ found: Map<number, Date>; ends: Floor }> {
  if (!target.marked) throw new Unreconciled('this bus cannot read its topics back');
  const prefix = `${taskId}:`;
  const found = new Map<number, Date>();
  const ends: Floor = {};
  for (const topic of topics) {
    const start = new Map(Object.entries(from[topic] ?? {}).map(([partition, offset]) => [Number(partition), offset]));
    const marks = await target.marked(topic, start, MARK_HEADER, TAKEOVER_READ_CAP);
    if (!marks.complete) throw new Unreconciled(`${topic} was not read to its end (${marks.read} records read, at most ${TAKEOVER_READ_CAP} a partition)`);
    for (const m of marks.found) {
      const seq = m.value.startsWith(prefix) ? Number(m.value.slice(prefix.length)) : NaN;
      if (Number.isInteger(seq)) found.set(seq, new Date(m.timestamp > 0 ? m.timestamp : Date.now()));
    }
    for (const [partition, end] of marks.ends) raise(ends, topic, partition, end);
  }
  return { found, ends };
}

/**
 * Records items found on their topics as sent (their letters resolved, counted on the task) and, unless null,
 * the floor from which this runner's records may go unrecorded; renews the lease. Answers how many were found
 * still pending.
 */
async function recordFound(taskId: string, owner: string, by: string, found: Map<number, Date>, floor: Floor | null): Promise<number> {
  return db().$transaction(async (tx) => {
    let sent: Array<{ letterId: string }> = [];
    if (found.size) {
      sent = await tx.$queryRaw<Array<{ letterId: string }>>`
        UPDATE ${items} i SET status = 'sent', sent_at = f.at
        FROM unnest(${[...found.keys()]}::int[], ${[...found.values()].map((d) => d.toISOString())}::timestamptz[]) AS f(seq, at), ${tasks} t
        WHERE i.task_id = ${taskId}::uuid AND t.id = i.task_id AND i.seq = f.seq AND ${notYetSent(Prisma.sql`i`, Prisma.sql`t`)}
        RETURNING i.letter_id::text AS "letterId"`;
      if (sent.length) await resolveLetters(tx, taskId, by, sent.map((s) => s.letterId));
    }
    const held = await tx.$executeRaw`
      UPDATE ${tasks} SET sent = sent + ${sent.length}, updated_at = now(), lease_until = ${LEASE_RENEWED},
        unconfirmed_from = CASE WHEN ${floor === null} THEN unconfirmed_from ELSE ${floor === null ? null : JSON.stringify(floor)}::jsonb END
      WHERE id = ${taskId}::uuid AND lease_owner = ${owner}`;
    if (!held) throw new Error(`redrive ${taskId}: another runner holds the task now`);
    return sent.length;
  });
}

/**
 * What a runner does once it holds the lease, before it sends anything: if the runner before it may have sent
 * records it never recorded (killed between Kafka's ack and its commit, or a send that failed half-way), it
 * finds them on the topics by their mark and records them sent; then it notes where the partitions of the
 * task's topics end: from there its own records may go unrecorded. Answers the topics, that floor, and how
 * many records it found.
 */
async function takeOver(taskId: string, owner: string, terms: TaskTerms, target: Bus): Promise<{ topics: string[]; floor: Floor; found: number }> {
  const topics = await remainingTopics(taskId);
  if (terms.unconfirmedFrom) {
    const { found, ends } = await unrecorded(taskId, terms.unconfirmedFrom, topics, target);
    return { topics, floor: ends, found: await recordFound(taskId, owner, terms.createdBy, found, ends) };
  }
  const floor: Floor = {};
  // A bus that cannot say where its partitions end leaves the floor empty: a takeover then reads them from their start.
  if (target.ends && topics.length) for (const [topic, partitions] of await target.ends(topics)) for (const [p, end] of partitions) raise(floor, topic, p, end);
  await recordFound(taskId, owner, terms.createdBy, new Map(), floor);
  return { topics, floor, found: 0 };
}

async function complete(taskId: string, owner: string): Promise<void> {
  await db().$executeRaw`
    UPDATE ${tasks} SET status = 'completed', finished_at = now(), updated_at = now(), lease_owner = NULL, lease_until = NULL, unconfirmed_from = NULL
    WHERE id = ${taskId}::uuid AND status = 'running' AND lease_owner = ${owner}`;
}

async function fail(taskId: string, owner: string, error: string): Promise<void> {
  await db().$executeRaw`
    UPDATE ${tasks} SET status = 'failed', finished_at = now(), updated_at = now(), lease_owner = NULL, lease_until = NULL, error = ${error}
    WHERE id = ${taskId}::uuid AND status = 'running' AND lease_owner = ${owner}`;
}

/** Kafka said no for good (a record too large, a topic refused), not "not now": retrying would fail the same way. */
function permanent(err: unknown): boolean {
  let refused = false;
  for (let e = err as { retriable?: boolean; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (e.retriable === true) return false;
    if (e.retriable === false && (e as Error).name !== 'KafkaJSNumberOfRetriesExceeded') refused = true;
  }
  return refused;
}

const messageOf = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 500);

/**
 * Runs a task from its first item not yet sent until it is done, cancelled, its lease is lost, or the caller's
 * signal or deadline says stop. Taking the task over, it first finds and records what the runner before it
 * sent without recording (takeOver). Each batch: wait for the rate, read it with the check that the task is
 * still running and its lease ours (a cancelled task stops here), send it (each record marked with its task and
 * item), then record it (commitBatch), renewing the lease. When batches follow each other without waiting (a
 * high rate), the next batch is read while one is sent, and sent while the commits of the last ones are still
 * in flight (at most COMMITS_IN_FLIGHT). Every batch not yet recorded lies above the floor the last recorded
 * one left, so whoever runs the task next finds it there, whatever happens to this runner: nothing is sent twice.
 */
export async function runTask(taskId: string, options: RunOptions = {}): Promise<RunResult> {
  const owner = options.owner ?? runnerId();
  const clock = options.clock ?? realClock;
  const target = options.target ?? bus();
  const log = (options.log ?? logger).child({ redriveTask: taskId, owner });
  const result: RunResult = { end: 'completed', sent: 0, skipped: 0, batches: 0, found: 0, sendingMs: 0 };
  const started = clock.now();
  /** Commits of the batches sent, oldest first, perhaps still in flight. */
  const committing: Array<Promise<void>> = [];
  /** The next batch, read while the last one was sent (only when it was due at once). */
  let ahead: Promise<NextBatch> | undefined;
  /** The last item taken (items are taken in sending order). */
  let after = 0;
  /** From where this runner's records may go unrecorded: raised by each send and each look at the partitions' ends. */
  let floor: Floor = {};
  let topics: string[] = [];
  let endsSeenAt = 0;
  const stop = async (end: RunEnd, giveBack?: { error?: string; allRecorded?: boolean }) => {
    await Promise.all(committing);
    if (giveBack) await release(taskId, owner, giveBack);
    log.info({ ...result, sendingMs: Math.round(result.sendingMs), end }, 'redrive runner stopped');
    return { ...result, end };
  };
  let terms: TaskTerms | undefined;
  let rate: number | undefined;
  for (;;) {
    // The rate holds over the whole run: a batch starts no sooner than (records sent before it) / rate.
    const wait = rate === undefined ? 0 : started + (result.sent / rate) * 1000 - clock.now();
    if (options.until !== undefined && clock.now() + Math.max(wait, 0) >= options.until) return stop('paused', { allRecorded: true });
    if (wait > 0) await clock.sleep(wait, options.signal);
    if (options.signal?.aborted) return stop('aborted');
    if (!terms) {
      const held = await lease(taskId, owner);
      if (!held) return stop(await whyNot(taskId, owner));
      try {
        ({ topics, floor, found: result.found } = await takeOver(taskId, owner, held, target));
      } catch (err) {
        const error = `not resumed: which records the runner before sent without recording them could not be told (${messageOf(err)})`;
        log.warn({ err: error }, 'redrive task not taken over');
        return stop('unreconciled', { error });
      }
      if (result.found) log.info({ found: result.found }, 'records the runner before sent without recording them, found on their topics');
      terms = held;
      rate = Math.min(held.ratePerSecond, options.rateCap ?? MAX_RATE);
      after = held.sentThrough;
      endsSeenAt = clock.now();
    }
    const size = batchSize(rate!);
    let next = await ahead;
    if (!next || Date.now() - next.readAt > AHEAD_FRESH_MS) next = await nextBatch(taskId, owner, size, after);
    ahead = undefined;
    // A task cancelled meanwhile (or a lease lost) stops here, before the next batch.
    if (!next.ours) return stop(await whyNot(taskId, owner));
    const batch = next.items;
    if (!batch.length) {
      await Promise.all(committing);
      await complete(taskId, owner);
      return stop('completed');
    }
    after = batch[batch.length - 1].seq;
    const skipped: Array<{ letterId: string; reason: string }> = [];
    const going: Array<{ letterId: string; record: BusRecord }> = [];
    for (const item of batch) {
      const reason = skipReason(item);
      if (reason) skipped.push({ letterId: item.letterId, reason });
      else {
        const record = recordOf(item.topic!, item.key, item.event!);
        record.headers[MARK_HEADER] = `${taskId}:${item.seq}`;
        going.push({ letterId: item.letterId, record });
      }
    }
    // When the next batch is due as soon as this one is sent (a high rate), it is read (and the task checked) while this one goes out.
    if (batch.length === size && started + ((result.sent + going.length) / rate!) * 1000 <= clock.now()) {
      ahead = nextBatch(taskId, owner, size, after);
      ahead.catch(() => undefined); // awaited (and its failure thrown) at the next batch
    }
    let places: Array<RecordPlace | undefined> = [];
    const sending = performance.now();
    try {
      // Now and then, where the partitions end: a takeover need not read back further than that on those not sent to lately.
      if (target.ends && clock.now() - endsSeenAt >= ENDS_EVERY_MS) {
        for (const [topic, partitions] of await target.ends(topics)) for (const [p, end] of partitions) raise(floor, topic, p, end);
        endsSeenAt = clock.now();
      }
      const records = going.map((g) => g.record);
      if (records.length && target.publish) places = await target.publish(records);
      else if (records.length) await target.send(records);
    } catch (err) {
      const message = `sending to Kafka failed: ${messageOf(err)}`;
      log.warn({ err: message, batch: going.length }, 'redrive batch not sent');
      if (permanent(err)) {
        await Promise.all(committing);
        await fail(taskId, owner, message + (await recordPartlySent(taskId, owner, terms.createdBy, floor, going, target)));
        return stop('failed');
      }
      // Part of the batch may have gone out: the next runner (the worker, within a minute) finds it and sends the rest.
      return stop('send-failed', { error: message });
    }
    result.sendingMs += performance.now() - sending;
    for (const p of places) if (p) raise(floor, p.topic, p.partition, p.offset + 1);
    result.sent += going.length;
    result.skipped += skipped.length;
    result.batches++;
    // Two commits in flight at most; the oldest is awaited first.
    if (committing.length >= COMMITS_IN_FLIGHT) await committing.shift();
    const commit = commitBatch(taskId, owner, terms.createdBy, { through: after, sent: going.map((g) => g.letterId), skipped, floor: JSON.stringify(floor) }, committing.at(-1));
    commit.catch(() => undefined); // awaited (and its failure thrown) before a later commit, or at the end
    committing.push(commit);
  }
}

/**
 * Kafka refused a batch for good, but it may have taken part of it first (another partition's records): those
 * are found on their topics and recorded sent, so no one sends them again. Answers a note for the task's error.
 */
async function recordPartlySent(taskId: string, owner: string, by: string, floor: Floor, going: Array<{ record: BusRecord }>, target: Bus): Promise<string> {
  if (!going.length) return '';
  try {
    const { found } = await unrecorded(taskId, floor, [...new Set(going.map((g) => g.record.topic))], target);
    const n = await recordFound(taskId, owner, by, found, null);
    return n ? `; ${n} of its records had gone out before and are recorded sent` : '';
  } catch (err) {
    return `; whether some of its records went out before could not be told (${messageOf(err)})`;
  }
}

/** Starts a task's runner in this process without waiting for it, outside the caller's trace. */
export function runInBackground(taskId: string, options: RunOptions, log: Logger): void {
  void context.with(ROOT_CONTEXT, () => runTask(taskId, { ...options, log })).catch((err) => {
    // The lease runs out and the worker resumes the task.
    log.error({ redriveTask: taskId, err: String(err) }, 'redrive runner failed; the worker resumes the task when its lease expires');
  });
}

/** Running tasks whose runner is gone (lease expired or given back), oldest first. */
export async function orphanedTasks(limit = 10): Promise<string[]> {
  const rows = await db().$queryRaw<Array<{ id: string }>>`
    SELECT id::text AS id FROM ${tasks} WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())
    ORDER BY created_at LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
