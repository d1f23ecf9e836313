// scheduled(): the plumbing of a function a PingSource triggers (a dev.knative.sources.ping CloudEvent), or
// an operator runs by hand with a plain POST. The work returns a summary; failures answer 503 so the
// PingSource delivery spec retries and the failure shows in its metrics.
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { Problem, badRequest, unavailable, type FunctionResponse } from './errors';
import { asUnavailable } from './db';
import { functionLogger, type Logger } from './log';
import { installRuntimeHooks } from './runtime-hooks';
import { assertProductionConfig } from './config';
import { traced } from './telemetry';
import { scheduledMetrics, serveGauges, type SystemGauges } from './metrics';
import type { System } from './system';

installRuntimeHooks();

export interface ScheduledSpec {
  name: string;
  system: System;
  /** Default cron schedule; the PingSource in knative/ is what actually runs. */
  schedule: string;
  summary: string;
  /**
   * The system's gauges read at scrape time (its outbox's backlog and age, and what functions/<system>/metrics.ts
   * declares), served at this function's /metrics. The system's outbox publisher serves them: one function per
   * system reads them, not every function at every scrape.
   */
  gauges?: SystemGauges;
}

export interface ScheduledHandler {
  (context: Context, event?: CloudEvent<unknown>): Promise<FunctionResponse>;
  spec: Omit<ScheduledSpec, 'system'> & { system: string };
}

/** The job could not finish for a reason it names (not a database outage): 503, retried by the PingSource. */
export class WorkFailed extends Error {}

/** What the PingSource sent (its data, as JSON), or the body of a hand-run POST; {} when there was none. */
function pingData(event: CloudEvent<unknown> | undefined, body: unknown): Record<string, unknown> {
  // faas-js-runtime hands a plain POST's parsed body over where a CloudEvent would be: only a CloudEvent's data is its data.
  let data: unknown = event && typeof (event as { specversion?: unknown }).specversion === 'string' ? event.data : body;
  if (Buffer.isBuffer(data)) data = data.toString('utf8');
  if (typeof data === 'string') {
    try { data = JSON.parse(data); } catch { data = undefined; }
  }
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/**
 * The instant a job reckons from: the function's own clock. Outside production a test or a developer may
 * replay a moment with {"now": "<ISO instant>"} in the ping; in a cluster that is refused (400), so no stray
 * POST can make a job act before its time.
 */
export function pingInstant(ping: Record<string, unknown>): Date {
  if (ping.now === undefined) return new Date();
  if (process.env.NODE_ENV === 'production') throw badRequest('now is honoured only outside production; the job uses its own clock', 'body/now', 'is not allowed in production');
  const at = typeof ping.now === 'string' ? new Date(ping.now) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw badRequest('now must be an ISO 8601 instant', 'body/now', 'must be a date-time');
  return at;
}

export function scheduled(spec: ScheduledSpec, work: (log: Logger, ping: Record<string, unknown>) => Promise<Record<string, unknown>>): ScheduledHandler {
  assertProductionConfig();
  const log = functionLogger(spec.name);
  if (spec.gauges) serveGauges(spec.name, spec.gauges);
  const handle = async (context: Context, event?: CloudEvent<unknown>) => {
    try {
      const summary = await work(log, pingData(event, (context as { body?: unknown }).body));
      return { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: summary };
    } catch (err) {
      // The job's own verdict first: a Kafka refusal mentions ECONNREFUSED too, and is not a database outage.
      const problem = err instanceof Problem ? err : err instanceof WorkFailed ? unavailable(err.message, 30) : asUnavailable(err);
      if (problem) {
        log.warn({ err: String(err) }, `${spec.name} could not finish`);
        return problem.response();
      }
      log.error({ err }, `${spec.name} failed`);
      return new Problem(500, 'Internal Server Error', 'the job failed; the error is logged').response();
    }
  };
  const tracedHandle = traced(() => ({ name: `run ${spec.name}`, attributes: { 'faas.name': spec.name, 'faas.trigger': 'timer' }, failedFrom: 500 }), scheduledMetrics(spec.name).counted(handle));
  const { gauges: _gauges, ...described } = spec;
  return Object.assign(tracedHandle, { spec: { ...described, system: spec.system.name } });
}

/**
 * A cron's work over a backlog, a batch at a time: each batch claims at most `size` rows (in one transaction,
 * FOR UPDATE SKIP LOCKED, so overlapping runs share the work rather than repeat it) and answers how many it
 * claimed. Batches run until one comes back short, or `max` have run: a larger backlog goes on at the next
 * run. Answers how many rows were claimed in all.
 */
export async function inBatches(size: number, max: number, batch: () => Promise<number>): Promise<number> {
  let claimed = 0;
  for (let n = 0; n < max; n++) {
    const got = await batch();
    claimed += got;
    if (got < size) break;
  }
  return claimed;
}
