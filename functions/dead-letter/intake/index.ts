// Dead-letter intake: the deadLetterSink of every KafkaSource. Knative delivers here the event it gave up
// on, with knativeerrordest (who failed), knativeerrorcode (their HTTP status) and knativeerrordata (base64
// of their response body). Each is kept once (source + id + destination) with a readable reason, so an
// operator can inspect it and the dead-letter system can retry or republish it to its topic.
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { db, asUnavailable, isUniqueViolation } from '../../shared/db';
import { Problem } from '../../shared/errors';
import { functionLogger } from '../../shared/log';
import { eventTypes } from '../../shared/events/catalogue';
import { installRuntimeHooks } from '../../shared/runtime-hooks';
import { assertProductionConfig } from '../../shared/config';
export { init, shutdown } from '../../shared/lifecycle';
import { deadLetterMetrics } from '../../shared/metrics';
import { systems } from '../../shared/systems';

installRuntimeHooks();
assertProductionConfig();
const log = functionLogger('dead-letter-intake');
const metrics = deadLetterMetrics('dead-letter-intake');

function decodeReason(data: string | undefined): string | undefined {
  if (!data) return undefined;
  const text = Buffer.from(data, 'base64').toString('utf8');
  try {
    const problem = JSON.parse(text) as { title?: string; detail?: string };
    return [problem.title, problem.detail].filter(Boolean).join(': ') || text;
  } catch {
    return text;
  }
}

/** The system whose contract declares the event type (its emitter, or its consumer for a type from outside). */
function systemOf(type: string): string {
  return systems().find((s) => Object.prototype.hasOwnProperty.call(s.events, type))?.name ?? 'unknown';
}

const reply = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body });

export async function handle(_context: Context, event?: CloudEvent<unknown>) {
  if (!event) {
    return new Problem(400, 'CloudEvent Required', 'the dead-letter sink takes CloudEvents', [{ name: 'header/ce-id', reason: 'is required' }]).response();
  }
  const ext = event as unknown as Record<string, unknown>;
  const errorDest = typeof ext.knativeerrordest === 'string' ? ext.knativeerrordest : null;
  const errorCode = ext.knativeerrorcode !== undefined ? Number(ext.knativeerrorcode) : null;
  const errorData = typeof ext.knativeerrordata === 'string' ? ext.knativeerrordata : null;
  const reason = decodeReason(errorData ?? undefined) ?? (errorCode ? `HTTP ${errorCode}` : 'delivery failed');
  const topic = Object.prototype.hasOwnProperty.call(eventTypes, event.type) ? eventTypes[event.type].topic : null;
  let stored: object;
  try {
    stored = JSON.parse(JSON.stringify(event.toJSON()));
  } catch {
    // An event too deep to serialise cannot be kept whole; refuse it with the reason instead of failing.
    return new Problem(400, 'Invalid CloudEvent', 'the event cannot be stored (nested too deeply)', [{ name: 'cloudevent/data', reason: 'nested too deeply' }]).response();
  }
  try {
    const letter = await db().deadLetter.create({
      data: { eventId: event.id, eventSource: event.source, eventType: event.type, topic, errorDest, errorCode, errorData, reason: reason.slice(0, 2000), event: stored },
    });
    // Alerting hooks on this line: every dead letter is an error-level log with its reason.
    log.error({ deadLetter: { id: letter.id, eventId: event.id, type: event.type, errorDest, errorCode, reason } }, 'event dead-lettered');
    metrics.received({ system: systemOf(event.type), source: event.source, code: errorCode === null ? 'none' : String(errorCode) });
    return reply(201, { deadLetterId: letter.id, reason });
  } catch (err) {
    if (isUniqueViolation(err)) return reply(200, { status: 'duplicate' });
    const down = asUnavailable(err);
    if (down) return down.response();
    throw err;
  }
}
