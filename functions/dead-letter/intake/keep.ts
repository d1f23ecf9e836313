// Keeping the dead-letter intake's failures: one statement for every delivery that arrives together (group
// commit), each delivery answered with its own letter. The statement inserts the new letters, counts one
// more attempt on those already kept, and adds a line of history for each, all at once.
import { db, isTransientDbError } from '../../shared/db';
import { groupCommit } from '../../shared/group-commit';
import { deadLetterMetrics } from '../../shared/metrics';
import { attempts, letters } from '../letters';

const metrics = deadLetterMetrics('dead-letter-intake');

/**
 * One failed delivery as the intake keeps it: a row of the statement below (its column names, as
 * jsonb_to_recordset reads them), with the retry policy of the KafkaSource that gave up.
 */
export interface Failure {
  /** The new letter's id, if the event has none here yet. */
  id: string;
  event_id: string;
  event_source: string;
  event_type: string;
  topic: string | null;
  kafka_source: string | null;
  consumer: string | null;
  error_dest: string;
  error_code: number | null;
  error_data: string | null;
  reason: string;
  fingerprint: string;
  /** The event's JSON (cut short when truncated). */
  event: string;
  truncated: boolean;
  system: string;
  partition: number | null;
  kafka_offset: string | null;
  record_key: string | null;
  /** Can the failure heal by itself (5xx, 408, 429, no answer)? */
  heals: boolean;
  max_attempts: number;
  backoff_ms: number;
  max_backoff_ms: number;
  /** Who gave up, for the history line: the KafkaSource, else the consumer, else the destination. */
  by: string | null;
}

export interface Kept {
  id: string;
  attempts: number;
  status: string;
}

/**
 * Keeps a write's failures in one statement. One letter per event and destination: a later failure of the
 * same event there is one more attempt, and reopens it (a redriven event that fails again is waiting again).
 * A failure that can heal waits for its next automatic retry (backoff doubling per retry made, per its
 * source's policy); one that cannot, or whose retries are spent, is parked for an operator at once. Its
 * history gains a line either way. Answers in the failures' order.
 */
async function keepLetters(failures: Failure[]): Promise<Array<Kept | undefined>> {
  const rows = await db().$queryRaw<Array<Kept & { proposed: string }>>`
    WITH incoming AS (
      -- This write's failures, one row each (Failure above), as one JSON parameter.
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(failures)}::jsonb) AS i(
        id uuid, event_id text, event_source text, event_type text, topic text, kafka_source text, consumer text,
        error_dest text, error_code int, error_data text, reason text, fingerprint text, event text, truncated boolean,
        system text, partition int, kafka_offset bigint, record_key text,
        heals boolean, max_attempts int, backoff_ms bigint, max_backoff_ms bigint, by text)
    ), letter AS (
      INSERT INTO ${letters} AS l (id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code, error_data,
        reason, fingerprint, event, truncated, system, partition, kafka_offset, record_key, status, status_reason, status_by, next_retry_at)
      SELECT id, event_id, event_source, event_type, topic, kafka_source, consumer, error_dest, error_code, error_data,
        reason, fingerprint, event::jsonb, truncated, system, partition, kafka_offset, record_key,
        (CASE WHEN heals AND max_attempts > 0 THEN 'open' ELSE 'parked' END)::dead_letter.letter_status,
        CASE WHEN NOT heals THEN 'cannot heal: the consumer refused it (HTTP ' || error_code || ')' WHEN max_attempts = 0 THEN 'no automatic retries for this source' END,
        'intake',
        CASE WHEN heals AND max_attempts > 0 THEN now() + make_interval(secs => backoff_ms / 1000.0) END
      FROM incoming
      -- Every write takes its letters' locks in one order, so two writes never wait on each other in a circle.
      ORDER BY event_source, event_id, error_dest
      ON CONFLICT (event_source, event_id, error_dest) DO UPDATE SET attempts = l.attempts + 1, last_seen_at = now(),
        error_code = EXCLUDED.error_code, error_data = EXCLUDED.error_data, reason = EXCLUDED.reason, fingerprint = EXCLUDED.fingerprint,
        kafka_source = coalesce(EXCLUDED.kafka_source, l.kafka_source),
        partition = coalesce(EXCLUDED.partition, l.partition), kafka_offset = coalesce(EXCLUDED.kafka_offset, l.kafka_offset),
        -- The policy of the failure at hand: the incoming row that proposed this letter (by the id it proposed).
        (status, status_reason, next_retry_at) = (
          SELECT (CASE WHEN i.heals AND l.retries < i.max_attempts THEN 'open' ELSE 'parked' END)::dead_letter.letter_status,
            CASE WHEN NOT i.heals THEN EXCLUDED.status_reason WHEN l.retries >= i.max_attempts
              THEN 'retries exhausted (' || l.retries || ' of ' || i.max_attempts || ')' END,
            CASE WHEN i.heals AND l.retries < i.max_attempts
              THEN now() + make_interval(secs => least(i.backoff_ms * power(2, least(l.retries, 30)), i.max_backoff_ms) / 1000.0) END
          FROM incoming i WHERE i.id = EXCLUDED.id),
        status_by = 'intake', status_at = now(), resolution = NULL
      RETURNING id, event_source, event_id, error_dest, attempts, status
    ), history AS (
      -- A write never holds one event and destination twice (keyOf below): the key finds each letter's failure.
      INSERT INTO ${attempts} (letter_id, kind, outcome, by, code, reason)
      SELECT letter.id, 'delivery', 'failed', i.by, i.error_code, i.reason FROM letter JOIN incoming i USING (event_source, event_id, error_dest)
    )
    SELECT i.id::text AS proposed, letter.id::text AS id, letter.attempts, letter.status::text AS status
    FROM letter JOIN incoming i USING (event_source, event_id, error_dest)`;
  metrics.written(failures.length);
  const byProposed = new Map(rows.map((r) => [r.proposed, r]));
  return failures.map((f) => byProposed.get(f.id));
}

/**
 * Deliveries that arrive together are kept together: one statement per write, one write per turn of the
 * event loop (or per 200 letters, or 4 MiB of events), two in flight while more arrive (one waits on the
 * database while the next forms; more would only make each smaller). The same event twice at one
 * destination never shares a statement (one statement cannot change a row twice); a write the database
 * refuses fails only its own deliveries, and one that fails for any other reason is written again letter by
 * letter, so a letter that cannot be kept fails alone.
 */
export const KEEP_LIMITS = { maxItems: 200, maxBytes: 4 * 1024 * 1024, maxWrites: 2 };

/** Keeps one failure (in a write with those that arrive with it); rejects with its write's error. */
export const keep = groupCommit(keepLetters, {
  ...KEEP_LIMITS,
  keyOf: (f) => JSON.stringify([f.event_source, f.event_id, f.error_dest]),
  sizeOf: (f) => f.event.length, // about its bytes
  isolate: (err) => !isTransientDbError(err),
});
