// Dead-letter intake: the deadLetterSink of every KafkaSource. Knative delivers here the event it gave up
// on, with knativeerrordest (who failed), knativeerrorcode (their HTTP status) and knativeerrordata (base64
// of their response body). Each is kept once (source + id + destination) with a readable reason, so an
// operator can inspect it and the dead-letter system can retry or republish it to its topic.
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { createHash, randomUUID } from 'node:crypto';
import { db, asUnavailable, tableOf } from '../../shared/db';
import { system } from '../system';
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

installRuntimeHooks();
assertProductionConfig();
assertPolicy();
const log = functionLogger('dead-letter-intake');
const metrics = deadLetterMetrics('dead-letter-intake');

const reply = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body });

const letters = tableOf(system, 'dead_letter');
const attempts = tableOf(system, 'attempt');

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

/** The event as kept: whole, or with its data cut to what fits (the attributes always whole). */
function kept(event: CloudEvent<unknown>): { stored: object; truncated: boolean } {
  const whole = JSON.stringify(event.toJSON());
  if (Buffer.byteLength(whole) <= MAX_KEPT_BYTES) return { stored: JSON.parse(whole), truncated: false };
  const { data: _data, data_base64: _b64, ...attributes } = JSON.parse(whole) as Record<string, unknown>;
  const text = typeof event.data === 'string' ? event.data : JSON.stringify(event.data ?? event.data_base64 ?? null);
  return { stored: { ...attributes, data: text.slice(0, Math.max(0, MAX_KEPT_BYTES - 4096)), datatruncated: true }, truncated: true };
}

export async function handle(context: Context, event?: CloudEvent<unknown>) {
  if (!event) {
    return new Problem(400, 'CloudEvent Required', 'the dead-letter sink takes CloudEvents', [{ name: 'header/ce-id', reason: 'is required' }]).response();
  }
  const ext = event as unknown as Record<string, unknown>;
  const errorDest = typeof ext.knativeerrordest === 'string' ? ext.knativeerrordest : '';
  const errorCode = ext.knativeerrorcode !== undefined ? Number(ext.knativeerrorcode) : null;
  const errorData = typeof ext.knativeerrordata === 'string' ? ext.knativeerrordata : null;
  const reason = decodeReason(errorData ?? undefined) ?? (errorCode ? `HTTP ${errorCode}` : 'delivery failed');
  // Who gave up: the KafkaSource named by its dead-letter sink reference (?kafkasource=), or by the source
  // attribute of a record it wrapped; the topic from the event catalogue, or from that source attribute.
  const wrapped = WRAPPED.exec(event.source);
  const named = (context.query as Record<string, unknown> | undefined)?.kafkasource;
  const kafkaSource = typeof named === 'string' && named ? named.slice(0, 253) : wrapped?.[1] ?? null;
  const topic = Object.prototype.hasOwnProperty.call(eventTypes, event.type) ? eventTypes[event.type].topic : wrapped?.[2] ?? null;
  const consumer = consumerOf(errorDest);
  const fingerprint = failureFingerprint({ consumer, dest: errorDest, type: event.type, code: errorCode, reason });
  let letter: { stored: object; truncated: boolean };
  try {
    letter = kept(event);
  } catch {
    // An event too deep to serialise cannot be kept whole; refuse it with the reason instead of failing.
    return new Problem(400, 'Invalid CloudEvent', 'the event cannot be stored (nested too deeply)', [{ name: 'cloudevent/data', reason: 'nested too deeply' }]).response();
  }
  try {
    // One letter per event and destination: a later failure of the same event there is one more attempt,
    // and reopens it (a redriven event that fails again is waiting again). A failure that can heal waits for
    // its next automatic retry (backoff doubling per retry made, per the source's policy); one that cannot,
    // or whose retries are spent, is parked for an operator at once. Its history gains a line either way.
    const policy = retryPolicyFor(kafkaSource);
    const heals = healable(errorCode);
    const { partition, offset } = positionOf(ext, event.subject);
    const key = recordKeyOf(ext, event.data);
    const [row] = await db().$queryRaw<Array<{ id: string; attempts: number; status: string }>>`
      WITH letter AS (
        INSERT INTO ${letters} AS l (id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code, error_data,
          reason, fingerprint, event, truncated, system, partition, kafka_offset, record_key, status, status_reason, status_by, next_retry_at)
        VALUES (${randomUUID()}::uuid, ${event.id}, ${event.source}, ${event.type}, ${topic}, ${kafkaSource}, ${consumer}, ${errorDest}, ${errorCode},
          ${errorData}, ${reason.slice(0, 2000)}, ${fingerprint}, ${JSON.stringify(letter.stored)}::jsonb, ${letter.truncated}, ${systemOf(event.type)},
          ${partition}, ${offset}::bigint, ${key},
          (CASE WHEN ${heals} AND ${policy.maxAttempts} > 0 THEN 'open' ELSE 'parked' END)::dead_letter.letter_status,
          CASE WHEN NOT ${heals} THEN ${`cannot heal: the consumer refused it (HTTP ${errorCode})`} WHEN ${policy.maxAttempts} = 0 THEN 'no automatic retries for this source' END,
          'intake',
          CASE WHEN ${heals} AND ${policy.maxAttempts} > 0 THEN now() + make_interval(secs => ${policy.backoffMs} / 1000.0) END)
        ON CONFLICT (event_source, event_id, error_dest) DO UPDATE SET attempts = l.attempts + 1, last_seen_at = now(),
          error_code = EXCLUDED.error_code, error_data = EXCLUDED.error_data, reason = EXCLUDED.reason, fingerprint = EXCLUDED.fingerprint,
          kafka_source = coalesce(EXCLUDED.kafka_source, l.kafka_source),
          partition = coalesce(EXCLUDED.partition, l.partition), kafka_offset = coalesce(EXCLUDED.kafka_offset, l.kafka_offset),
          status = (CASE WHEN ${heals} AND l.retries < ${policy.maxAttempts} THEN 'open' ELSE 'parked' END)::dead_letter.letter_status,
          status_reason = CASE WHEN NOT ${heals} THEN EXCLUDED.status_reason WHEN l.retries >= ${policy.maxAttempts}
            THEN 'retries exhausted (' || l.retries || ' of ' || ${policy.maxAttempts} || ')' END,
          status_by = 'intake', status_at = now(), resolution = NULL,
          next_retry_at = CASE WHEN ${heals} AND l.retries < ${policy.maxAttempts}
            THEN now() + make_interval(secs => least(${policy.backoffMs} * power(2, least(l.retries, 30)), ${policy.maxBackoffMs}) / 1000.0) END
        RETURNING id, attempts, status::text AS status
      ), history AS (
        INSERT INTO ${attempts} (letter_id, kind, outcome, by, code, reason)
        SELECT id, 'delivery', 'failed', ${kafkaSource ?? consumer ?? (errorDest || null)}, ${errorCode}, ${reason.slice(0, 2000)} FROM letter
      )
      SELECT id::text AS id, attempts, status FROM letter`;
    // Alerting hooks on this line: every dead letter is an error-level log with its reason.
    log.error({ deadLetter: { id: row.id, eventId: event.id, type: event.type, errorDest, errorCode, reason, fingerprint, attempts: row.attempts, kafkaSource } }, 'event dead-lettered');
    metrics.received({ system: systemOf(event.type), source: event.source, code: errorCode === null ? 'none' : String(errorCode) });
    return reply(row.attempts === 1 ? 201 : 200, { deadLetterId: row.id, attempts: row.attempts, status: row.status, fingerprint, reason, ...(letter.truncated ? { truncated: true } : {}) });
  } catch (err) {
    const down = asUnavailable(err);
    if (down) return down.response();
    throw err;
  }
}
