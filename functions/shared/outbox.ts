// Transactional outbox, one per system (its <schema>.outbox_event table). A state change and the events it
// causes commit together; the events are published right after the commit (publisher.ts), and the
// system's batch publisher (a PingSource) sweeps whatever could not be sent then.
import { randomUUID } from 'node:crypto';
import { db, tableOf, Prisma, type Tx } from './db';
import { problemsOf, type JsonSchema } from './validate';
import { publishSoon } from './publisher';
import { activeTraceCarrier } from './telemetry';
import type { Emit, EventCatalogue, System } from './system';

const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };

/** A transaction in progress with the events emitted in it so far. */
export interface Unit<E extends EventCatalogue> {
  tx: Tx;
  emit: Emit<E>;
  /**
   * A data-modifying statement (with WITH clauses of its own, `name AS (...)`) to run with the outbox write
   * at the end of the unit: one round trip for both.
   */
  writeAtEnd(statement: Prisma.Sql, withClauses?: Prisma.Sql[], check?: (rowsWritten: number) => void): void;
}

interface Pending {
  events: Prisma.Sql[];
  atEnd?: { statement: Prisma.Sql; withClauses: Prisma.Sql[]; check?: (rowsWritten: number) => void };
}

/**
 * emit() that checks each event against its schema at once and keeps its outbox row in `rows` (in emit
 * order), for the caller to write in one INSERT with the change.
 */
function emitterInto<E extends EventCatalogue>(system: System<E>, source: string, rows: Prisma.Sql[]): Emit<E> {
  return (async (type: string, data: unknown, options?: { subject?: string }) => {
    const contract = system.events[type];
    if (!contract) throw new Error(`${system.name} does not declare event type ${type}`);
    const problems = problemsOf(contract.schema as JsonSchema, data, 'data');
    // A producer that breaks its own contract is a bug: fail the whole change rather than publish it.
    if (problems.length) throw new Error(`event ${type} does not match its schema: ${JSON.stringify(problems)}`);
    const key = String((data as Record<string, unknown>)[contract.key]);
    // The trace this change belongs to travels with its event (the publisher may be another process, later).
    const traced = activeTraceCarrier();
    rows.push(Prisma.sql`(${randomUUID()}::uuid, ${contract.topic}, ${key}, ${type}, ${source}, ${options?.subject ?? null}, ${JSON.stringify(data)}::jsonb,
      ${traced?.traceparent ?? null}, ${traced?.tracestate ?? null})`);
  }) as Emit<E>;
}

/** The INSERT of events' outbox rows (emitterInto's), all of them or, with `condition`, only when it holds. */
function insertOf(system: System, rows: Prisma.Sql[], condition?: Prisma.Sql): Prisma.Sql {
  const into = Prisma.sql`INSERT INTO ${tableOf(system, 'outbox_event')} (id, topic, key, type, source, subject, data, traceparent, tracestate)`;
  return condition
    ? Prisma.sql`${into} SELECT * FROM (VALUES ${Prisma.join(rows)}) AS e WHERE ${condition}`
    : Prisma.sql`${into} VALUES ${Prisma.join(rows)}`;
}

/**
 * emit() bound to an open transaction: all of a unit's events are written in one INSERT just before it
 * commits (in emit order), so a change that emits two events pays one round trip for them, not two.
 */
function unitOf<E extends EventCatalogue>(system: System<E>, source: string, tx: Tx, pending: Pending): Unit<E> {
  const unit = { tx, emit: emitterInto(system, source, pending.events) } as Unit<E>;
  unit.writeAtEnd = (statement, withClauses = [], check) => {
    if (pending.atEnd) throw new Error('a unit writes one statement at its end');
    pending.atEnd = { statement, withClauses, check };
  };
  return unit;
}

/**
 * The events of a change made by one statement, outside any interactive transaction (one round trip where a
 * transaction takes four or more): `emitting` emits them as a unit's handler would (each checked against its
 * schema), and what comes back is the WITH clause `outbox AS (INSERT ...)` for the statement, which writes them
 * only when `condition` holds (say, that the change's UPDATE matched: EXISTS (SELECT 1 FROM moved)). After the
 * statement commits with them, the caller publishes them as transaction() does: publishSoon(system, source).
 */
export async function outboxClause<E extends EventCatalogue>(system: System<E>, source: string, condition: Prisma.Sql, emitting: (emit: Emit<E>) => Promise<void>): Promise<Prisma.Sql> {
  const rows: Prisma.Sql[] = [];
  await emitting(emitterInto(system, source, rows));
  if (!rows.length) return Prisma.sql`outbox AS (SELECT 1 WHERE false)`;
  return Prisma.sql`outbox AS (${insertOf(system, rows, condition)})`;
}

/** Events that change no state of their own (a provider's report passed on): one INSERT, no transaction, published right after. */
export async function emitOnly<E extends EventCatalogue>(system: System<E>, source: string, emitting: (emit: Emit<E>) => Promise<void>): Promise<void> {
  const clause = await outboxClause(system, source, Prisma.sql`true`, emitting);
  await db().$executeRaw`WITH ${clause} SELECT 1`;
  publishSoon(system, source);
}

/** The unit's events (and its closing statement) in one statement, inside the transaction. */
async function writePending(system: System, tx: Tx, pending: Pending): Promise<void> {
  const insert = pending.events.length
    ? insertOf(system, pending.events)
    : undefined;
  if (!pending.atEnd) {
    if (insert) await tx.$executeRaw(insert);
    return;
  }
  const clauses = [...(insert ? [Prisma.sql`outbox AS (${insert})`] : []), ...pending.atEnd.withClauses];
  const written = await tx.$executeRaw(clauses.length ? Prisma.sql`WITH ${Prisma.join(clauses, ', ')} ${pending.atEnd.statement}` : pending.atEnd.statement);
  pending.atEnd.check?.(written);
}

/** Runs work in one database transaction; events it emits are stored with it and published after commit. */
export function transaction<E extends EventCatalogue, R>(system: System<E>, source: string, work: (tx: Tx, emit: Emit<E>) => Promise<R>): Promise<R> {
  return withUnit(system, source, (unit) => work(unit.tx, unit.emit));
}

/** The same, for a wrapper that works in the transaction before and after the handler (idempotent routes). */
export async function withUnit<E extends EventCatalogue, R>(system: System<E>, source: string, work: (unit: Unit<E>) => Promise<R>): Promise<R> {
  let emitted = 0;
  const result = await db().$transaction(async (tx) => {
    const pending: Pending = { events: [] };
    const result = await work(unitOf(system, source, tx, pending));
    await writePending(system, tx, pending);
    emitted = pending.events.length;
    return result;
  }, TX_OPTIONS);
  if (emitted) publishSoon(system, source);
  return result;
}
