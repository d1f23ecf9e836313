// Transactional outbox, one per system (its <schema>.outbox_event table). A state change and the events it
// causes commit together; the events are published right after the commit (publisher.ts), and the
// system's batch publisher (a PingSource) sweeps whatever could not be sent then.
import { randomUUID } from 'node:crypto';
import { db, tableOf, type Tx } from './db';
import { problemsOf, type JsonSchema } from './validate';
import { publishSoon } from './publisher';
import type { Emit, EventCatalogue, System } from './system';

const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };

/** A transaction in progress with the events emitted in it so far. */
export interface Unit<E extends EventCatalogue> {
  tx: Tx;
  emit: Emit<E>;
  emitted: number;
}

/** emit() bound to an open transaction: each event is checked against its schema and stored with the change. */
function unitOf<E extends EventCatalogue>(system: System<E>, source: string, tx: Tx): Unit<E> {
  const unit = { tx, emitted: 0 } as Unit<E>;
  unit.emit = (async (type: string, data: unknown, options?: { subject?: string }) => {
    const contract = system.events[type];
    if (!contract) throw new Error(`${system.name} does not declare event type ${type}`);
    const problems = problemsOf(contract.schema as JsonSchema, data, 'data');
    // A producer that breaks its own contract is a bug: fail the whole change rather than publish it.
    if (problems.length) throw new Error(`event ${type} does not match its schema: ${JSON.stringify(problems)}`);
    const key = String((data as Record<string, unknown>)[contract.key]);
    await tx.$executeRaw`
      INSERT INTO ${tableOf(system, 'outbox_event')} (id, topic, key, type, source, subject, data)
      VALUES (${randomUUID()}::uuid, ${contract.topic}, ${key}, ${type}, ${source}, ${options?.subject ?? null}, ${JSON.stringify(data)}::jsonb)`;
    unit.emitted++;
  }) as Emit<E>;
  return unit;
}

/** Runs work in one database transaction; events it emits are stored with it and published after commit. */
export function transaction<E extends EventCatalogue, R>(system: System<E>, source: string, work: (tx: Tx, emit: Emit<E>) => Promise<R>): Promise<R> {
  return withUnit(system, source, (unit) => work(unit.tx, unit.emit));
}

/** The same, for a wrapper that works in the transaction before and after the handler (idempotent routes). */
export async function withUnit<E extends EventCatalogue, R>(system: System<E>, source: string, work: (unit: Unit<E>) => Promise<R>): Promise<R> {
  let unit: Unit<E> | undefined;
  const result = await db().$transaction(async (tx) => {
    unit = unitOf(system, source, tx);
    return work(unit);
  }, TX_OPTIONS);
  if (unit?.emitted) publishSoon(system, source);
  return result;
}
