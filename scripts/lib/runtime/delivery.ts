// Delivering one event to a sink with a Knative delivery spec, as Knative's Kafka data plane does
// (RecordDispatcherImpl): retries with linear or exponential backoff for the statuses it retries, then the
// dead-letter sink with the knativeerror* extensions, tried under the same spec. A 4xx other than
// 404/408/409/429 is final at once. When the dead-letter sink refuses too, the event is lost: the data plane
// logs it and moves on. A delivery cut short by a stop is "interrupted": not finished, so not committed.
import { CloudEvent } from 'cloudevents';
import type { Delivery } from '../manifests';
import { fromCloudEvent, wireHttpMessage, type WireEvent } from './cloudevents';
import { injectTraceHeaders } from '../../../functions/shared/telemetry';

export interface DeliveryResult {
  /**
   * delivered: the sink took it. dead-lettered: the dead-letter sink took it. dropped: the sink refused it and
   * there is no dead-letter sink. lost: the dead-letter sink refused it too. interrupted: stopped before any
   * of those (the record is not committed and will be delivered again).
   */
  outcome: 'delivered' | 'dead-lettered' | 'dropped' | 'lost' | 'interrupted';
  attempts: number;
  code?: number;
  /** Attempts at the dead-letter sink and its last status, when it was used. */
  deadLetterAttempts?: number;
  deadLetterCode?: number;
}

export interface DeliveryOptions {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onAttempt?: (attempt: number, code: number | undefined, error?: string, target?: 'sink' | 'dead-letter') => void;
  /** Polled after each attempt: true ends the delivery as interrupted. */
  stopped?: () => boolean;
  /** Aborts a request or a backoff wait in progress; the delivery ends as interrupted. */
  signal?: AbortSignal;
}

const RETRYABLE = new Set([404, 408, 409, 429]);
export const isRetryable = (code: number | undefined) => code === undefined || code >= 500 || RETRYABLE.has(code);

/** Wait before retry n (1-based), as Knative computes it. */
export function backoffMs(delivery: Delivery, n: number): number {
  return delivery.backoffPolicy === 'linear' ? delivery.backoffDelayMs * n : delivery.backoffDelayMs * 2 ** n;
}

function sleeper(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

interface Answer { code?: number; body: Buffer; headers?: Headers; error?: string }

async function post(url: string, event: WireEvent, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
  const { headers, body } = wireHttpMessage(event);
  // The delivery's own span (dispatcher.ts) as the request's traceparent, as Knative's dispatcher sends it.
  injectTraceHeaders(headers);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { method: 'POST', headers, body: body && new Uint8Array(body), signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
    return { code: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    return { body: Buffer.alloc(0), error: (err as Error).message };
  }
}

const ok = (a: Answer) => a.code !== undefined && a.code >= 200 && a.code < 300;

/** One target under the delivery spec: the first try and up to `retry` retries of what is retryable. */
async function send(url: string, target: 'sink' | 'dead-letter', event: WireEvent, delivery: Delivery, options: DeliveryOptions) {
  const sleep = options.sleep ?? sleeper;
  const halted = () => options.signal?.aborted || options.stopped?.() === true;
  for (let attempt = 1; ; attempt++) {
    const answer = await post(url, event, delivery.timeoutMs, options.signal);
    options.onAttempt?.(attempt, answer.code, answer.error, target);
    if (ok(answer)) return { status: 'ok' as const, attempts: attempt, answer };
    if (halted()) return { status: 'interrupted' as const, attempts: attempt, answer };
    if (!isRetryable(answer.code) || attempt > delivery.retry) return { status: 'failed' as const, attempts: attempt, answer };
    await sleep(backoffMs(delivery, attempt), options.signal);
    if (halted()) return { status: 'interrupted' as const, attempts: attempt, answer };
  }
}

/** The event as the dead-letter sink gets it: the reason of the failure in knativeerror* extensions. */
function deadLetter(event: WireEvent, sinkUrl: string, failed: Answer): WireEvent {
  const attributes: Record<string, string> = { ...event.attributes, knativeerrordest: sinkUrl };
  if (failed.code !== undefined) {
    attributes.knativeerrorcode = String(failed.code);
    // The sink may name more extensions of its own with kne- headers.
    failed.headers?.forEach((value, name) => { if (name.toLowerCase().startsWith('kne-')) attributes[name.slice(4).toLowerCase()] = value; });
  }
  if (failed.body.length) attributes.knativeerrordata = failed.body.subarray(0, 1024).toString('base64');
  return { attributes, data: event.data };
}

export async function deliver(input: WireEvent | CloudEvent<unknown>, sinkUrl: string, delivery: Delivery, deadLetterUrl: string | undefined, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const event = input instanceof CloudEvent ? fromCloudEvent(input) : input;
  const sink = await send(sinkUrl, 'sink', event, delivery, options);
  const result = { attempts: sink.attempts, code: sink.answer.code };
  if (sink.status === 'ok') return { outcome: 'delivered', ...result };
  if (sink.status === 'interrupted') return { outcome: 'interrupted', ...result };
  if (!deadLetterUrl) return { outcome: 'dropped', ...result };

  const letter = await send(deadLetterUrl, 'dead-letter', deadLetter(event, sinkUrl, sink.answer), delivery, options);
  const outcome = letter.status === 'ok' ? 'dead-lettered' : letter.status === 'interrupted' ? 'interrupted' : 'lost';
  return { outcome, ...result, deadLetterAttempts: letter.attempts, deadLetterCode: letter.answer.code };
}
