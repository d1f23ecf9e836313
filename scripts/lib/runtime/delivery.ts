// Delivering one event to a sink with a Knative delivery spec: retries with linear or exponential backoff
// for the statuses Knative's Kafka data plane retries, then the dead-letter sink with the knativeerror*
// extensions. A 4xx other than 404/408/409/429 is final at once: the event cannot succeed.
import type { CloudEvent } from 'cloudevents';
import type { Delivery } from '../manifests';
import { httpMessage } from './cloudevents';

export interface DeliveryResult {
  outcome: 'delivered' | 'dead-lettered' | 'dropped';
  attempts: number;
  code?: number;
  /** Status the dead-letter sink answered, when it was used. */
  deadLetterCode?: number;
}

export interface DeliveryOptions {
  sleep?: (ms: number) => Promise<void>;
  onAttempt?: (attempt: number, code: number | undefined, error?: string) => void;
  stopped?: () => boolean;
}

const RETRYABLE = new Set([404, 408, 409, 429]);
export const isRetryable = (code: number | undefined) => code === undefined || code >= 500 || RETRYABLE.has(code);

/** Wait before retry n (1-based), as Knative computes it. */
export function backoffMs(delivery: Delivery, n: number): number {
  return delivery.backoffPolicy === 'linear' ? delivery.backoffDelayMs * n : delivery.backoffDelayMs * 2 ** n;
}

const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function post(url: string, event: CloudEvent<unknown>, timeoutMs: number): Promise<{ code?: number; body: Buffer; error?: string }> {
  const { headers, body } = httpMessage(event);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    return { code: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    return { body: Buffer.alloc(0), error: (err as Error).message };
  }
}

export async function deliver(event: CloudEvent<unknown>, sinkUrl: string, delivery: Delivery, deadLetterUrl: string | undefined, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const sleep = options.sleep ?? sleeper;
  let attempt = 0;
  let last: { code?: number; body: Buffer; error?: string };
  for (;;) {
    attempt++;
    last = await post(sinkUrl, event, delivery.timeoutMs);
    options.onAttempt?.(attempt, last.code, last.error);
    if (last.code !== undefined && last.code >= 200 && last.code < 300) return { outcome: 'delivered', attempts: attempt, code: last.code };
    if (!isRetryable(last.code) || attempt > delivery.retry || options.stopped?.()) break;
    await sleep(backoffMs(delivery, attempt));
  }
  if (!deadLetterUrl) return { outcome: 'dropped', attempts: attempt, code: last.code };

  const letter = event.cloneWith({
    knativeerrordest: sinkUrl,
    ...(last.code !== undefined ? { knativeerrorcode: String(last.code) } : {}),
    ...(last.body.length ? { knativeerrordata: last.body.subarray(0, 1024).toString('base64') } : {}),
  }, false);
  // The dead-letter sink must not lose the event: keep trying it, backing off up to 30 s.
  for (let n = 1; ; n++) {
    const r = await post(deadLetterUrl, letter, delivery.timeoutMs);
    if (r.code !== undefined && r.code >= 200 && r.code < 300) return { outcome: 'dead-lettered', attempts: attempt, code: last.code, deadLetterCode: r.code };
    if (options.stopped?.()) return { outcome: 'dropped', attempts: attempt, code: last.code };
    await sleep(Math.min(30_000, 200 * 2 ** n));
  }
}
