// Dead-letter intake: the deadLetterSink of every KafkaSource. Knative delivers here the event it gave up
// on, with knativeerrordest (who failed), knativeerrorcode (their HTTP status) and knativeerrordata (base64
// of their response body). Each is kept once (source + id + destination) with a readable reason, so an
// operator can inspect it and the dead-letter system can retry or republish it to its topic. Deliveries
// that arrive together are kept together, in one statement (keep.ts), each answered with its own letter.
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { createHash, randomUUID } from 'node:crypto';
import { asUnavailable } from '../../shared/db';
import { Problem } from '../../shared/errors';
import { functionLogger } from '../../shared/log';
import { eventTypes } from '../../shared/events/catalogue';
import { installRuntimeHooks } from '../../shared/runtime-hooks';
import { assertProductionConfig } from '../../shared/config';
export { init, shutdown } from '../../shared/lifecycle';
import { deadLetterMetrics } from '../../shared/metrics';
import { healable, recordKeyOf, systemOf } from '../letters';
import { assertPolicy, retryPolicyFor } from '../policy';
import { decodeReason } from '../reason';
import { keep, type Failure, type Kept } from './keep';

installRuntimeHooks();
assertProductionConfig();
assertPolicy();
const log = functionLogger('dead-letter-intake');
const metrics = deadLetterMetrics('dead-letter-intake');

const reply = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body });

/** Events larger than this (as JSON) are kept with their data cut short and flagged, never refused. */
const MAX_KEPT_BYTES = Number(process.env.DEAD_LETTER_MAX_EVENT_BYTES ?? 256 * 1024);

/** A wrapped Kafka record's source: /apis/v1/namespaces/<namespace>/kafkasources/<name>#<topic>. */
const WRAPPED = /\/kafkasources\/([^/#]+)#(.+)$/;
/** A wrapped record's subject: partition:<n>#<offset>. */
const AT = /^partition:(\d+)#(\d+)$/;

const whole = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number') && /^\d+$/.test(String(v)) ? String(v) : null;

/** Where the record sat: the KafkaSource's knativekafkapartition/knativekafkaoffset, or a wrapped record's subject. */
function positionOf(ext: Record<string, unknown>, subject: string | undefined): { partition: number | null; offset: string | null } {
  const partition = whole(ext.knativekafkapartition);
  const offset = whole(ext.knativekafkaoffset);
  if (partition !== null && offset !== null) return { partition: Number(partition), offset };
  const at = subject ? AT.exec(subject) : null;
  return at ? { partition: Number(at[1]), offset: at[2] } : { partition: null, offset: null };
}

/** The consumer a destination URL names: its Knative Service (the first label of the host). */
function consumerOf(dest: string): string | null {
  try {
    const host = new URL(dest).hostname;
    // A Service's host begins with a letter; an address (127.0.0.1, [::1]) or localhost names no consumer.
    return /^[a-z]/.test(host) && host !== 'localhost' ? host.split('.')[0] : null;
  } catch {
    return null;
  }
}

/** The reason with what differs between alike failures (ids, numbers, quoted values) taken out. */
export function normalisedReason(reason: string): string {
  return reason.toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/"[^"]*"|'[^']*'/g, '<value>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ').trim();
}

export function failureFingerprint(parts: { consumer: string | null; dest: string; type: string; code: number | null; reason: string }): string {
  return createHash('sha256').update([parts.consumer ?? parts.dest, parts.type, parts.code ?? '', normalisedReason(parts.reason)].join('\n')).digest('hex').slice(0, 16);
}

/** A JSON escape of the NUL character (not one whose backslash is itself escaped). */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * The event as kept (its JSON): whole, or with its data cut to what fits (the attributes always whole).
 * PostgreSQL keeps no NUL character, in jsonb or text: an event holding one is kept with U+FFFD in its place
 * and flagged like a cut one (no longer the event as sent, so never retried or redriven as it is), rather than
 * refused on every delivery and lost.
 */
function kept(event: CloudEvent<unknown>): { json: string; truncated: boolean } {
  const sent = JSON.stringify(event.toJSON());
  const altered = NUL_ESCAPE.test(sent);
  NUL_ESCAPE.lastIndex = 0;
  const whole = altered ? JSON.stringify({ ...JSON.parse(sent.replace(NUL_ESCAPE, '$1\\ufffd')), dataaltered: 'NUL characters replaced by U+FFFD' }) : sent;
  if (Buffer.byteLength(whole) <= MAX_KEPT_BYTES) return { json: whole, truncated: altered };
  const { data, data_base64: b64, ...attributes } = JSON.parse(whole) as Record<string, unknown>;
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? b64 ?? null);
  return { json: JSON.stringify({ ...attributes, data: text.slice(0, Math.max(0, MAX_KEPT_BYTES - 4096)), datatruncated: true }), truncated: true };
}

/** What Knative's delivery says went wrong, and where the event came from, as the row to keep. */
function failureOf(event: CloudEvent<unknown>, context: Context, letter: { json: string; truncated: boolean }): Failure {
  const ext = event as unknown as Record<string, unknown>;
  const errorDest = typeof ext.knativeerrordest === 'string' ? ext.knativeerrordest : '';
  // An HTTP status has three digits; anything else is no answer at all (a timeout, a refused connection).
  const errorCode = /^\d{3}$/.test(String(ext.knativeerrorcode ?? '')) ? Number(ext.knativeerrorcode) : null;
  const errorData = typeof ext.knativeerrordata === 'string' ? ext.knativeerrordata : null;
  const reason = (decodeReason(errorData ?? undefined) ?? (errorCode ? `HTTP ${errorCode}` : 'delivery failed')).replace(/\0/g, '\uFFFD');
  // Who gave up: the KafkaSource named by its dead-letter sink reference (?kafkasource=), or by the source
  // attribute of a record it wrapped; the topic from the event catalogue, or from that source attribute.
  const wrapped = WRAPPED.exec(event.source);
  const named = (context.query as Record<string, unknown> | undefined)?.kafkasource;
  const kafkaSource = typeof named === 'string' && named ? named.slice(0, 253) : wrapped?.[1] ?? null;
  const topic = Object.prototype.hasOwnProperty.call(eventTypes, event.type) ? eventTypes[event.type].topic : wrapped?.[2] ?? null;
  const consumer = consumerOf(errorDest);
  const policy = retryPolicyFor(kafkaSource);
  const { partition, offset } = positionOf(ext, event.subject);
  return {
    id: randomUUID(),
    event_id: event.id,
    event_source: event.source,
    event_type: event.type,
    topic,
    kafka_source: kafkaSource,
    consumer,
    error_dest: errorDest,
    error_code: errorCode,
    error_data: errorData,
    reason: reason.slice(0, 2000),
    fingerprint: failureFingerprint({ consumer, dest: errorDest, type: event.type, code: errorCode, reason }),
    event: letter.json,
    truncated: letter.truncated,
    system: systemOf(event.type, topic),
    partition,
    kafka_offset: offset,
    record_key: recordKeyOf(ext, event.data),
    heals: healable(errorCode),
    max_attempts: policy.maxAttempts,
    backoff_ms: policy.backoffMs,
    max_backoff_ms: policy.maxBackoffMs,
    by: kafkaSource ?? consumer ?? (errorDest || null),
  };
}

export async function handle(context: Context, event?: CloudEvent<unknown>) {
  if (!event) {
    return new Problem(400, 'CloudEvent Required', 'the dead-letter sink takes CloudEvents', [{ name: 'header/ce-id', reason: 'is required' }]).response();
  }
  let letter: { json: string; truncated: boolean };
  try {
    letter = kept(event);
  } catch {
    // An event too deep to serialise cannot be kept whole; refuse it with the reason instead of failing.
    return new Problem(400, 'Invalid CloudEvent', 'the event cannot be stored (nested too deeply)', [{ name: 'cloudevent/data', reason: 'nested too deeply' }]).response();
  }
  const failure = failureOf(event, context, letter);
  let row: Kept;
  try {
    row = await keep(failure);
  } catch (err) {
    const down = asUnavailable(err);
    if (down) return down.response();
    // 500, which Knative retries, never a 4xx that would drop the letter. The database's first line only:
    // its details may quote the event's data.
    log.error({ deadLetter: { eventId: event.id, type: event.type, errorDest: failure.error_dest }, err: String((err as Error)?.message ?? err).split('\n')[0].slice(0, 300) }, 'dead letter not kept');
    return new Problem(500, 'Internal Server Error', 'the letter could not be kept; the error is logged').response();
  }
  // Alerting hooks on this line: every dead letter is an error-level log with its reason.
  log.error({ deadLetter: { id: row.id, eventId: event.id, type: event.type, errorDest: failure.error_dest, errorCode: failure.error_code, reason: failure.reason, fingerprint: failure.fingerprint, attempts: row.attempts, kafkaSource: failure.kafka_source } }, 'event dead-lettered');
  metrics.received({ system: failure.system, source: event.source, code: failure.error_code === null ? 'none' : String(failure.error_code) });
  return reply(row.attempts === 1 ? 201 : 200, { deadLetterId: row.id, attempts: row.attempts, status: row.status, fingerprint: failure.fingerprint, reason: failure.reason, ...(letter.truncated ? { truncated: true } : {}) });
}
