// Test data and helpers: a clean database per test, a branch with services and slots, tokens per role,
// and functions started under faas-js-runtime exactly as their containers start them.
import { freePort, portOf, startUnderRuntime } from '../../scripts/lib/runtime/host';
import type { Server } from 'node:http';
import { db } from '../../functions/shared/db';
import { signToken, type Role } from '../../functions/shared/auth';
import { memoryBus } from '../../scripts/lib/laptop/memory-bus';
import { settleOutbox } from '../../functions/shared/publisher';
import { MemoryDispatcher } from '../../scripts/lib/runtime/dispatcher';
import type { Bundle } from '../../scripts/lib/runtime/bundle';

const TABLES = [
  'booking_queue.ticket', 'booking_queue.booking', 'booking_queue.slot', 'booking_queue.service', 'booking_queue.branch',
  'booking_queue.outbox_event', 'booking_queue.inbox_event', 'booking_queue.idempotency_record', 'dead_letter.dead_letter',
  'dead_letter.outbox_event', 'dead_letter.inbox_event', 'dead_letter.alert', 'dead_letter.redrive_task', 'dead_letter.letter_view',
  'appointment.resource', 'appointment.visit_type', 'appointment.appointment', 'appointment.hl7_message',
  'appointment.outbox_event', 'appointment.inbox_event', 'appointment.idempotency_record',
  'notification.contact_point', 'notification.push_subscription', 'notification.preference', 'notification.notification',
  'notification.inbox_item', 'notification.outbox_event', 'notification.inbox_event', 'notification.idempotency_record',
  'patient_booking.patient', 'patient_booking.catalogue_test', 'patient_booking.catalogue_package', 'patient_booking.recommendation',
  'patient_booking.package_booking', 'patient_booking.visit', 'patient_booking.result_order', 'patient_booking.diagnostic_report',
  'patient_booking.result_audit', 'patient_booking.hl7_message', 'patient_booking.outbox_event', 'patient_booking.inbox_event',
  'patient_booking.idempotency_record',
];

export async function resetDatabase(): Promise<void> {
  await settleOutbox();
  // A transaction still finishing from an earlier test (a consumer, a post-commit publish) may lock these
  // tables in another order: PostgreSQL then picks one side as the deadlock victim, and it may be us.
  for (let attempt = 1; ; attempt++) {
    try {
      await db().$executeRawUnsafe(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
      break;
    } catch (err) {
      if (attempt >= 5 || !/40P01|deadlock detected/.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  memoryBus.clear();
}

export const BRANCH = 'hcm-d1';
export const OTHER_BRANCH = 'hn-bd';

export async function seedCatalogue(): Promise<void> {
  await db().branch.createMany({
    data: [
      { id: BRANCH, name: 'District 1', timezone: 'Asia/Ho_Chi_Minh' },
      { id: OTHER_BRANCH, name: 'Ba Dinh', timezone: 'Asia/Ho_Chi_Minh' },
    ],
  });
  await db().service.createMany({
    data: [
      { id: 'blood-draw', name: 'Blood draw', ticketPrefix: 'A', durationMinutes: 5 },
      { id: 'check-up', name: 'General check-up', ticketPrefix: 'B', durationMinutes: 20, requiresConfirmation: true },
    ],
  });
}

export function hoursFromNow(h: number): Date {
  return new Date(Math.ceil((Date.now() + h * 3600_000) / 60_000) * 60_000);
}

let nextStart = 0;

/** A slot start no other slot of this process uses: tomorrow and on, each a distinct minute (never random). */
function freshStart(): Date {
  return hoursFromNow(24 + (nextStart++ * 17) / 60);
}

export async function createSlot(opts: { capacity?: number; startsAt?: Date; serviceId?: string; branchId?: string; status?: 'open' | 'closed' } = {}) {
  const startsAt = opts.startsAt ?? freshStart();
  return db().slot.create({
    data: {
      branchId: opts.branchId ?? BRANCH,
      serviceId: opts.serviceId ?? 'blood-draw',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 15 * 60_000),
      capacity: opts.capacity ?? 5,
      status: opts.status ?? 'open',
    },
  });
}

export function token(role: Role, sub: string, extra: { branchId?: string; tier?: 'svip' | 'vip' } = {}): string {
  return signToken({ sub, role, ...extra, exp: Math.floor(Date.now() / 1000) + 3600 });
}

export const patientToken = (id = 'patient-1', tier?: 'svip' | 'vip') => token('patient', id, { tier });
export const staffToken = (branchId = BRANCH) => token('staff', `staff-${branchId}`, { branchId });
/** A staff member of every branch holding the dead-letter operator grant (and phi, when asked). */

export { freePort };

export interface RunningFunction {
  url: string;
  close(): Promise<void>;
}

/** Starts a function module under faas-js-runtime on a free port, as `faas-js-runtime index.js` does. */
export async function startFunction(mod: Record<string, unknown>): Promise<RunningFunction> {
  // The port is picked as the function binds it: one probed free first could be taken meanwhile by another worker.
  const server = await startUnderRuntime(mod, { logLevel: 'silent' });
  return {
    url: `http://127.0.0.1:${portOf(server)}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(url: string, init: { method?: string; token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; query?: Record<string, string> } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const target = init.query ? `${url}/?${new URLSearchParams(init.query)}` : url;
  const res = await fetch(target, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Events published so far (memory bus), after the post-commit publish has run. */
export async function published(topic: string) {
  await settleOutbox();
  return memoryBus.records(topic).map((r) => ({ type: r.headers.ce_type, key: r.key, data: JSON.parse(String(r.value ?? 'null')) }));
}

/** Delivers a CloudEvent over HTTP in binary mode, as a KafkaSource does. */
export async function deliver(url: string, event: { type: string; data: unknown; id?: string; source?: string }, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': event.id ?? crypto.randomUUID(),
      'ce-source': event.source ?? '/test/portal',
      'ce-type': event.type,
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify(event.data),
  });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Holds a transaction-scoped advisory lock the way a request or publisher in flight holds it, until the returned
 * release() is called (which waits for the transaction to end).
 */
export async function holdAdvisoryLock(namespace: number, key: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => { locked = r; });
  const holder = db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${namespace}::int, hashtext(${key}))`;
    locked();
    await held;
  }, { timeout: 120_000 });
  await Promise.race([isLocked, holder]);
  return async () => { release(); await holder; };
}

/** Keeps faas-js-runtime's "Error parsing JSON body" lines (printed for JSON bodies that parse to a string, which
 *  are answered 400 all the same) out of the test output; returns the restore. */
export function quietJsonParseErrors(): () => void {
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Error parsing JSON body')) return;
    consoleError(...args);
  };
  return () => { console.error = consoleError; };
}

/** Polls until check() gives a truthy value, or fails naming what it waited for. Only a bound, never a timing. */
/**
 * Waits until an in-process bundle has nothing left in flight: events published after their commits, and
 * every in-process KafkaSource idle. Consumers scale from zero (keda/): their ScaledObjects poll now rather
 * than in 10 s.
 */
export async function bundleIdle(bundle: Bundle): Promise<void> {
  await settleOutbox();
  await bundle.pollScalers();
  for (const d of bundle.dispatchers) if (d instanceof MemoryDispatcher) await d.idle();
  await settleOutbox();
}

export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
