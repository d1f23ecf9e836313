// consume(): the plumbing of an event consumer. Events arrive as CloudEvents over HTTP, as a KafkaSource
// delivers them. Each is checked against its system's contract, handled once per CloudEvent source+id (an
// inbox row in the system's schema, in the same transaction as the effect), and answered so the delivery
// spec does the right thing:
//   2xx  done (or a duplicate: no second effect)
//   4xx  can never succeed (400: unknown type, bad data; 422: a refusal of the domain): not retried,
//        straight to the dead-letter sink with the reason
//   503  transient (database down): retried with backoff
// consumer() is the shell every consumer shares (the inbox transaction and those answers, spans, metrics);
// consume() is it for JSON events checked against their contracts, hl7.ts for the LIS's HL7 v2 messages.
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { Problem, type FunctionResponse } from './errors';
import { DomainError } from './domain-errors';
import { asUnavailable, tableOf, Prisma, type Tx } from './db';
import { precompile, problemsOf, type JsonSchema } from './validate';
import { warmBeforeReady } from './lifecycle';
import { functionLogger, type Logger } from './log';
import { transaction } from './outbox';
import { installRuntimeHooks } from './runtime-hooks';
import { assertProductionConfig } from './config';
import { contextFrom, headerCarrier, traced, SpanKind } from './telemetry';
import { consumerMetrics, since } from './metrics';
import type { Emit, EventCatalogue, EventData, EventType, System } from './system';

installRuntimeHooks();

export interface ConsumeContext<E extends EventCatalogue> {
  tx: Tx;
  emit: Emit<E>;
  event: CloudEvent<unknown>;
  log: Logger;
}

type InTransaction<E extends EventCatalogue, D> = (data: D, ctx: ConsumeContext<E>) => Promise<unknown>;

/**
 * A handler whose usual effect is one statement: `atOnce` makes it with the event's inbox row (kit.inbox) and
 * no interactive transaction, or writes nothing and returns undefined when the event needs more (then
 * `inTransaction` handles it as a plain handler would). DUPLICATE from either: handled before.
 */
export interface AtOnce<E extends EventCatalogue, D> {
  atOnce(data: D, ctx: { inbox: (onlyIf?: Prisma.Sql) => Prisma.Sql; event: CloudEvent<unknown>; log: Logger }): Promise<unknown>;
  inTransaction: InTransaction<E, D>;
}

export type EventHandlers<E extends EventCatalogue> = { [T in EventType<E>]?: InTransaction<E, EventData<E, T>> | AtOnce<E, EventData<E, T>> };

export interface ConsumerSpec<E extends EventCatalogue = EventCatalogue> {
  name: string;
  system: System<E>;
  /** Topics this consumer's KafkaSource subscribes to. */
  topics: string[];
  summary: string;
}

export interface ConsumerHandler {
  (context: Context, event?: CloudEvent<unknown>): Promise<FunctionResponse>;
  spec: Omit<ConsumerSpec, 'system'> & { system: string; types: string[] };
}

/** What consume() and the other consumer shapes (hl7.ts) share: the consumer's logger, metrics and its once(). */
export interface ConsumerKit<E extends EventCatalogue> {
  log: Logger;
  metrics: ReturnType<typeof consumerMetrics>;
  /**
   * Runs work once per CloudEvent source+id: the inbox row and the effect commit in one transaction. The
   * answer says what the delivery spec should do (200 done or duplicate, 422 refused, 503 retry, 500).
   * work may return DUPLICATE when it finds the same thing already done under another event id.
   * `field` names a refused field as the event carried it (consume(): data/<field>).
   */
  once(event: CloudEvent<unknown>, work: (ctx: ConsumeContext<E>) => Promise<unknown>, field?: (name: string) => string): Promise<FunctionResponse>;
  /**
   * The event's inbox row as a WITH clause, `inbox AS (INSERT ... RETURNING 1)`, for an effect that is one
   * statement rather than a transaction: the clause has a row when this is the event's first delivery, and
   * the statement makes its effect only then (EXISTS (SELECT 1 FROM inbox)). With `onlyIf`, the row is written
   * only when that condition holds (an event refused for what it names leaves no row: a redrive is handled).
   */
  inbox(event: CloudEvent<unknown>, onlyIf?: Prisma.Sql): Prisma.Sql;
  /** The answer for an event handled (its result) or found handled before (DUPLICATE), with its log line. */
  answered(event: CloudEvent<unknown>, result: unknown): FunctionResponse;
}

/** A handler's answer meaning "already done" (say, a message re-sent under a new event id): no second effect. */
export const DUPLICATE = Symbol('duplicate');

/** The answer for an event handled (its result) or found handled before (DUPLICATE). */
export function handled(result: unknown): FunctionResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: result === DUPLICATE ? { status: 'duplicate' } : { status: 'processed', result: result ?? null },
  };
}

/**
 * What a consumer answers for an error of its effect: a refusal of the domain will not change with retries
 * (Knative retries 404 and 409), so 422 sends the event to the dead-letter sink at once with the field at
 * fault; the database down is 503 (redelivered with backoff); anything else is logged and 500.
 */
export function failureAnswer(err: unknown, log: Logger, meta: Record<string, unknown>, field = (name: string) => `data/${name}`): FunctionResponse {
  if (err instanceof DomainError) {
    log.warn({ event: meta, refusal: err.refusal, field: err.field }, 'event refused');
    return new Problem(422, 'Unprocessable Event', err.message, err.field ? [{ name: field(err.field), reason: err.message }] : undefined).response();
  }
  if (err instanceof Problem) return err.response();
  const down = asUnavailable(err);
  if (down) {
    log.warn({ event: meta, err: String(err) }, 'database unavailable; the event will be redelivered');
    return down.response();
  }
  log.error({ event: meta, err }, 'event handler failed');
  return new Problem(500, 'Internal Server Error', 'the consumer failed; the error is logged').response();
}

/**
 * The shell of a consumer: production config, its logger and metrics, the 400 for a request that is no
 * CloudEvent, the span and the counting around each delivery. `handle` decides what the event is and runs
 * its effect through kit.once().
 */
export function consumer<const E extends EventCatalogue>(spec: ConsumerSpec<E>, types: string[], handle: (event: CloudEvent<unknown>, kit: ConsumerKit<E>) => Promise<FunctionResponse>): ConsumerHandler {
  assertProductionConfig();
  const log = functionLogger(spec.name);
  const source = `/${spec.system.name}/${spec.name}`;
  const inbox = tableOf(spec.system, 'inbox_event');
  const metrics = consumerMetrics(spec.name, types);

  const insertInbox = (event: CloudEvent<unknown>, onlyIf = Prisma.sql`true`) => Prisma.sql`
    INSERT INTO ${inbox} (consumer, source, id, type) SELECT ${spec.name}, ${event.source}, ${event.id}, ${event.type} WHERE ${onlyIf}
    ON CONFLICT DO NOTHING`;

  const answered: ConsumerKit<E>['answered'] = (event, result) => {
    log.info({ event: { id: event.id, source: event.source, type: event.type }, duplicate: result === DUPLICATE }, result === DUPLICATE ? 'duplicate event ignored' : 'event handled');
    return handled(result);
  };

  const once: ConsumerKit<E>['once'] = async (event, work, field = (name) => `data/${name}`) => {
    const meta = { id: event.id, source: event.source, type: event.type };
    try {
      const transacting = performance.now();
      const outcome = await transaction(spec.system, source, async (tx, emit) => {
        // Inbox: the first delivery inserts the row; a redelivery finds it and has no effect.
        const fresh = await tx.$executeRaw(insertInbox(event));
        if (fresh === 0) return { duplicate: true as const };
        const result = await work({ tx, emit, event, log });
        return result === DUPLICATE ? { duplicate: true as const } : { duplicate: false as const, result };
      });
      metrics.transaction.observe(since(transacting));
      return answered(event, outcome.duplicate ? DUPLICATE : outcome.result);
    } catch (err) {
      return failureAnswer(err, log, meta, field);
    }
  };
  const kit: ConsumerKit<E> = { log, metrics, once, answered, inbox: (event, onlyIf) => Prisma.sql`inbox AS (${insertInbox(event, onlyIf)} RETURNING 1)` };

  const answer = async (_context: Context, event?: CloudEvent<unknown>) => {
    if (!event) {
      return new Problem(400, 'CloudEvent Required', 'send a CloudEvent (binary ce-* headers or application/cloudevents+json)', [
        { name: 'header/ce-id', reason: 'is required' }, { name: 'header/ce-source', reason: 'is required' },
        { name: 'header/ce-type', reason: 'is required' }, { name: 'header/ce-specversion', reason: 'is required' },
      ]).response();
    }
    return handle(event, kit);
  };
  // The handling span continues the event's own trace (CloudEvents distributed-tracing extension) when the
  // delivery itself carried none, as from a KafkaSource that does not trace. Ids and type only, never data.
  const counted: (context: Context, event?: CloudEvent<unknown>) => Promise<FunctionResponse> = metrics.counted(answer);
  const tracedHandle = traced((context: Context, event?: CloudEvent<unknown>) => ({
    name: `consume ${event?.type ?? 'event'}`,
    kind: SpanKind.CONSUMER,
    parent: headerCarrier(context.headers) ? undefined : contextFrom({ traceparent: event?.traceparent as string | undefined, tracestate: event?.tracestate as string | undefined }),
    attributes: { 'faas.name': spec.name, 'faas.trigger': 'pubsub', 'cloudevents.event_id': event?.id, 'cloudevents.event_type': event?.type, 'cloudevents.event_source': event?.source },
    failedFrom: 400,
  }), counted);
  return Object.assign(tracedHandle, { spec: { name: spec.name, system: spec.system.name, topics: spec.topics, summary: spec.summary, types } });
}

export function consume<const E extends EventCatalogue>(spec: ConsumerSpec<E>, handlers: EventHandlers<E>): ConsumerHandler {
  const types = Object.keys(handlers);
  // Every delivery is checked against its type's schema; the events a handler emits are compiled when first emitted.
  warmBeforeReady(() => {
    for (const type of Object.keys(handlers)) if (spec.system.events[type]) precompile(spec.system.events[type].schema as JsonSchema);
  });

  return consumer(spec, types, async (event, { log, metrics, once, inbox, answered }) => {
    const meta = { id: event.id, source: event.source, type: event.type };
    const handler = (handlers as Record<string, InTransaction<E, unknown> | AtOnce<E, unknown> | undefined>)[event.type];
    const contract = spec.system.events[event.type];
    if (!handler || !contract) {
      log.warn({ event: meta }, 'event type not handled here; dead-lettering');
      return new Problem(400, 'Unknown Event Type', `${spec.name} handles ${types.join(', ')}`, [{ name: 'cloudevent/type', reason: `${event.type} is not handled` }]).response();
    }
    const validating = performance.now();
    let data: unknown = event.data;
    if (typeof data === 'string') {
      try { data = JSON.parse(data); } catch { /* the schema check reports it */ }
    } else if (Buffer.isBuffer(data)) {
      try { data = JSON.parse(data.toString('utf8')); } catch { /* the schema check reports it */ }
    }
    const problems = problemsOf(contract.schema as JsonSchema, data, 'data');
    metrics.validation.observe(since(validating));
    if (problems.length) {
      log.warn({ event: meta, problems }, 'event data does not match its contract; dead-lettering');
      return new Problem(400, 'Invalid Event Data', problems.map((p) => `${p.name}: ${p.reason}`).join('; '), problems).response();
    }
    if (typeof handler === 'function') return once(event, (ctx) => handler(data, ctx));
    let done: unknown;
    try {
      done = await handler.atOnce(data, { inbox: (onlyIf) => inbox(event, onlyIf), event, log });
    } catch (err) {
      return failureAnswer(err, log, meta);
    }
    if (done === undefined) return once(event, (ctx) => handler.inTransaction(data, ctx));
    return answered(event, done);
  });
}
