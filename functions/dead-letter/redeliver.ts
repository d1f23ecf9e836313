// A kept letter's event delivered again to the consumer that failed, as its KafkaSource would: an HTTP POST
// in CloudEvents binary mode (ce-* headers, the data as the body) to the destination Knative named
// (knativeerrordest), bounded by a timeout. What the dead-letter sink added (knativeerror*) stays behind. A
// letter whose data was cut short is never sent (the consumer would act on half an event), nor one that
// names nowhere to send it.
import { injectTraceHeaders } from '../shared/telemetry';
import { reasonOf } from './reason';
import { keptData } from './letters';

export interface Redelivery {
  outcome: 'delivered' | 'failed';
  /** The consumer's HTTP status; null when it gave no answer (timeout, connection refused): that can heal. */
  code: number | null;
  reason: string;
}

/** Nothing was sent: the letter cannot be redelivered at all. */
export interface Refusal {
  outcome: 'refused';
  code: null;
  reason: string;
}

/** What of a letter a redelivery reads. */
export interface Redeliverable {
  errorDest: string;
  event: unknown;
  truncated: boolean;
}

const TIMEOUT_ENV = 'DEAD_LETTER_RETRY_TIMEOUT_MS';
/** A consumer answering slower than its KafkaSource's timeout would fail there too; 10 s is well inside them. */
const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * The automatic retry holds the letter's row lock while it waits (retry-consumer), inside a transaction that
 * may last 30 s (shared/outbox.ts): the wait stays well under that.
 */
const MAX_TIMEOUT_MS = 20_000;
/** A consumer's answer is read this far: enough for any problem+json, never a whole page into memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** How long the consumer may take to answer (DEAD_LETTER_RETRY_TIMEOUT_MS); a bad setting names itself. */
export function redeliveryTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TIMEOUT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100 || ms > MAX_TIMEOUT_MS) throw new Error(`${TIMEOUT_ENV} must be a whole number of milliseconds from 100 to ${MAX_TIMEOUT_MS}, not "${raw}"`);
  return ms;
}

/** Why this letter cannot be delivered again, or undefined when it can. */
export function cannotRedeliver(letter: Redeliverable): string | undefined {
  if (letter.truncated) return 'the event was too large to keep whole and its data is cut short: it is never sent again';
  if (!letter.errorDest) return 'Knative named no consumer for it (no knativeerrordest): there is nowhere to deliver it again';
  let url: URL;
  try {
    url = new URL(letter.errorDest);
  } catch {
    return `its destination ${letter.errorDest} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `its destination ${letter.errorDest} is not an HTTP address`;
  if (!letter.event || typeof letter.event !== 'object' || Array.isArray(letter.event)) return 'the kept event is not a CloudEvent';
  return undefined;
}

const ATTRIBUTE = /^[a-z0-9]+$/;
/** Added by the dead-letter sink's delivery, not part of the event the consumer had. */
const ADDED_BY_SINK = /^knativeerror/;
// Header values carry printable ASCII only: anything else is percent-encoded as UTF-8 (CloudEvents HTTP
// binding, 3.1.3.2).
const headerValue = (v: string) => v.replace(/[^\x20-\x7e]+/g, (s) => encodeURIComponent(s));

/** The HTTP binary-mode message of a kept event (as the intake stored it: the CloudEvent's JSON form). */
export function redeliveryMessage(event: Record<string, unknown>): { headers: Record<string, string>; body?: Buffer } {
  const { data, data_base64: base64, datacontenttype, ...attributes } = event;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE.test(name) || ADDED_BY_SINK.test(name) || value === null || value === undefined) continue;
    headers[`ce-${name}`] = headerValue(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const contentType = typeof datacontenttype === 'string' ? datacontenttype : undefined;
  const kept = keptData(data, base64, contentType);
  const body = kept === undefined ? undefined : Buffer.from(kept);
  const type = contentType ?? (body && typeof base64 !== 'string' ? 'application/json' : undefined);
  if (type) headers['content-type'] = headerValue(type);
  return { headers, body };
}

/** Delivers the letter's event to its consumer once; never throws for what the consumer or the network did. */
export async function redeliver(letter: Redeliverable): Promise<Redelivery | Refusal> {
  const refused = cannotRedeliver(letter);
  if (refused) return { outcome: 'refused', code: null, reason: refused };
  const timeoutMs = redeliveryTimeoutMs();
  const { headers, body } = redeliveryMessage(letter.event as Record<string, unknown>);
  injectTraceHeaders(headers);
  try {
    const res = await fetch(letter.errorDest, {
      method: 'POST', headers, body: body && new Uint8Array(body), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = Buffer.from(await res.arrayBuffer()).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
    if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', code: res.status, reason: `delivered (HTTP ${res.status})` };
    return { outcome: 'failed', code: res.status, reason: (reasonOf(answer) ?? `HTTP ${res.status}`).slice(0, 2000) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { outcome: 'failed', code: null, reason: `no answer within ${timeoutMs} ms` };
    return { outcome: 'failed', code: null, reason: `no answer: ${(e.cause?.message ?? e.message).slice(0, 500)}` };
  }
}
