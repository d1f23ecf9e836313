// What a dead letter is and how it may be shown and moved: the system its event belongs to, whether its
// failure can heal by itself, when its next automatic retry is due, the operators' view of it (event data
// masked unless they hold the phi grant) and the history each action adds to. Functions of the dead-letter
// system tell their story with these; the SQL of each story stays in its function.
import type { DeadLetter, DeadLetterStatus } from '../shared/generated/prisma/client';
import { Prisma, tableOf, type Tx } from '../shared/db';
import { systems } from '../shared/systems';
import { eventTypes } from '../shared/events/catalogue';
import { actorOf, holds } from '../shared/access';
import type { Caller } from '../shared/auth';
import { system } from './system';
import { retryPolicyFor, type RetryPolicy } from './policy';

export const statuses = ['open', 'retrying', 'parked', 'resolved', 'discarded'] as const satisfies readonly DeadLetterStatus[];
/** Letters that still wait for something (an automatic retry, or an operator). */
export const UNRESOLVED: DeadLetterStatus[] = ['open', 'retrying', 'parked'];

/** A status column is one of `among`: the statuses written as constants, so the planner sees them as such. */
export function statusIn(among: readonly DeadLetterStatus[], column: Prisma.Sql = Prisma.sql`status`): Prisma.Sql {
  return Prisma.sql`${column} IN (${Prisma.raw(among.map((s) => `'${s}'`).join(', '))})`;
}

/** The letter still waits (open, retrying or parked). */
export const waiting = (column?: Prisma.Sql) => statusIn(UNRESOLVED, column);

export const letters = tableOf(system, 'dead_letter');
export const attempts = tableOf(system, 'attempt');

/** The system whose contract declares the event type (its emitter, or its consumer for a type from outside). */
export function systemOf(type: string, topic?: string | null): string {
  const all = systems();
  const has = (o: object | undefined, k: string) => !!o && Object.prototype.hasOwnProperty.call(o, k);
  // A record that is no CloudEvent of ours (the LIS's HL7) belongs to the system that reads its external topic.
  return all.find((s) => has(s.events, type))?.name ?? (topic ? all.find((s) => has(s.externalTopics, topic))?.name : undefined) ?? 'unknown';
}

/**
 * Can retrying heal this failure? No answer at all (timeout, refused connection), 5xx, 408 and 429 can; any
 * other 4xx says the consumer will refuse the event every time (bad data, a domain refusal).
 */
export function healable(code: number | null): boolean {
  return code === null || code >= 500 || code === 408 || code === 429;
}

/** When the retry after `retriesMade` retries is due: backoff doubling from the policy's first wait, capped. */
export function nextRetryDelayMs(policy: RetryPolicy, retriesMade: number): number {
  return Math.min(policy.backoffMs * 2 ** Math.min(retriesMade, 30), policy.maxBackoffMs);
}

export interface Disposition {
  status: DeadLetterStatus;
  nextRetryAt: Date | null;
  reason: string | null;
}

/** What becomes of a letter that has just failed (again): retried later, or parked for an operator. */
export function dispositionAfterFailure(kafkaSource: string | null, code: number | null, retriesMade: number, now = new Date()): Disposition {
  if (!healable(code)) return { status: 'parked', nextRetryAt: null, reason: `cannot heal: the consumer refused it (HTTP ${code})` };
  const policy = retryPolicyFor(kafkaSource);
  if (retriesMade >= policy.maxAttempts) return { status: 'parked', nextRetryAt: null, reason: `retries exhausted (${retriesMade} of ${policy.maxAttempts})` };
  return { status: 'open', nextRetryAt: new Date(now.getTime() + nextRetryDelayMs(policy, retriesMade)), reason: null };
}

export type AttemptKind = 'delivery' | 'retry' | 'auto-retry' | 'redrive';
export type AttemptOutcome = 'failed' | 'delivered' | 'sent';

/** One line of a letter's history. */
export function recordAttempt(tx: Tx, letterId: string, a: { kind: AttemptKind; outcome: AttemptOutcome; by?: string | null; code?: number | null; reason?: string | null }): Promise<number> {
  return tx.$executeRaw`
    INSERT INTO ${attempts} (letter_id, kind, outcome, by, code, reason)
    VALUES (${letterId}::uuid, ${a.kind}, ${a.outcome}, ${a.by ?? null}, ${a.code ?? null}, ${a.reason?.slice(0, 2000) ?? null})`;
}

/** Who acted, as the history and status_by record it (shared/access.ts): an operator's token subject, or a function's name. */
export const actor = actorOf;

// ---- what operators see ----

const MASK = '•••';
/** Fields shown even when data is masked: identifiers (pseudonymous), never names, contacts or results. */
const SHOWN = /(^id$|Id$|_id$|^requestId$|^status$|^type$|^channel$)/;

function maskValue(value: unknown, name?: string): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => maskValue(v));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskValue(v, k)]));
  return name && SHOWN.test(name) && typeof value !== 'object' ? value : MASK;
}

/** A reason with what may be a patient's taken out: the values it quotes, email addresses, phone-like numbers. */
export function maskedReason(reason: string | null): string | null {
  return reason && reason
    .replace(/"[^"]*"|'[^']*'/g, `"${MASK}"`)
    .replace(/[^\s@"]+@[^\s@"]+/g, MASK)
    // A number standing alone (not part of an id such as a uuid).
    .replace(/(?<![\w-])\+?\d[\d\s.-]{5,}\d(?![\w-])/g, MASK);
}

/** The kept event with its data masked: attributes whole, each data field's value hidden unless it is an id.
 *  knativeerrordata (the consumer's answer, base64) is hidden too: it may quote the data it refused. */
export function maskedEvent(event: unknown): unknown {
  if (!event || typeof event !== 'object') return event;
  const { data, data_base64: b64, knativeerrordata: answer, ...attributes } = event as Record<string, unknown>;
  // Data that came as bytes (no content type) is often JSON all the same: shown masked as such, so an operator
  // still sees its ids and shape; other bytes stay hidden.
  const text = typeof data === 'string' ? data : typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
  let parsed = text === undefined ? data : MASK;
  if (text !== undefined) {
    try { parsed = JSON.parse(text); } catch { /* not JSON: hidden whole */ }
  }
  const shown = data !== undefined || (b64 !== undefined && parsed !== MASK);
  return { ...attributes, ...(answer !== undefined ? { knativeerrordata: MASK } : {}), ...(shown ? { data: maskValue(parsed) } : {}), ...(b64 !== undefined ? { data_base64: MASK } : {}), datamasked: true };
}

/** May this caller see event data unmasked? Staff holding the phi grant; every such view is recorded. */
export const seesPhi = (caller: Caller) => holds(caller, 'phi');

/** Records that a caller saw these letters' data unmasked (who, when, which letter). */
export async function recordUnmaskedViews(tx: Tx, caller: Caller, letterIds: string[]): Promise<void> {
  if (!letterIds.length) return;
  await tx.$executeRaw`
    INSERT INTO ${tableOf(system, 'letter_view')} (letter_id, viewer)
    SELECT unnest(${letterIds}::uuid[]), ${actor(caller)}`;
}

/** The columns a letter's summary shows: everything but the event and the consumer's answer (lists need not read them). */
export type LetterRow = Omit<DeadLetter, 'event' | 'errorData'>;

/** A letter as the API shows it in lists (no event data: that is in the detail, masked or recorded). */
export function letterSummary(l: LetterRow, unmasked: boolean) {
  return {
    id: l.id,
    system: l.system,
    status: l.status,
    eventId: l.eventId,
    eventSource: l.eventSource,
    eventType: l.eventType,
    topic: l.topic,
    kafkaSource: l.kafkaSource,
    consumer: l.consumer,
    partition: l.partition,
    offset: l.offset === null ? null : Number(l.offset),
    key: l.key,
    code: l.errorCode,
    reason: unmasked ? l.reason : maskedReason(l.reason),
    group: l.fingerprint,
    attempts: l.attempts,
    retries: l.retries,
    nextRetryAt: l.nextRetryAt?.toISOString() ?? null,
    receivedAt: l.receivedAt.toISOString(),
    lastSeenAt: l.lastSeenAt.toISOString(),
    statusReason: l.statusReason,
    statusBy: l.statusBy,
    statusAt: l.statusAt.toISOString(),
    resolution: l.resolution,
    truncated: l.truncated,
  };
}

export type LetterSummary = ReturnType<typeof letterSummary>;

/** Is the media type JSON (application/json, text/json, …+json)? An event that names none carries JSON. */
export function isJsonMedia(type: unknown): boolean {
  const media = typeof type === 'string' ? type.split(';')[0].trim().toLowerCase() : 'application/json';
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}

/**
 * A kept event's data as the bytes it came as (to send it again, to its consumer or its topic): data_base64
 * as those very bytes (binary is no UTF-8 text); JSON data written as JSON again; text of another media type as
 * it was. Undefined when the event had no data.
 */
export function keptData(data: unknown, base64: unknown, contentType: unknown): string | Buffer | undefined {
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64');
  if (data === undefined) return undefined;
  return typeof data === 'string' && !isJsonMedia(contentType) ? data : JSON.stringify(data);
}

/** The record key a letter's event was (or would be) published with: its partitionkey, a wrapped record's key, or its contract's key field. */
export function recordKeyOf(attributes: Record<string, unknown>, data: unknown): string | null {
  if (typeof attributes.partitionkey === 'string') return attributes.partitionkey;
  if (typeof attributes.key === 'string') return attributes.key;
  const contract = eventTypes[String(attributes.type)];
  // Data that came without a content type arrives as bytes; a JSON body still names its key.
  let body = data instanceof Uint8Array ? Buffer.from(data).toString('utf8') : data;
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { return null; }
  }
  const value = contract && body && typeof body === 'object' ? (body as Record<string, unknown>)[contract.key] : undefined;
  return value === undefined || value === null ? null : String(value);
}

