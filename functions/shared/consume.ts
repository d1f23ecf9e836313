// consume(): the plumbing of an event consumer. Events arrive as CloudEvents over HTTP, as a KafkaSource
// delivers them. Each is checked against the catalogue, handled once per CloudEvent source+id (inbox row
// in the same transaction as the effect), and answered so the delivery spec does the right thing:
//   2xx  done (or a duplicate: no second effect)
//   4xx  can never succeed (unknown type, bad data): not retried, goes to the dead-letter sink
//   503  transient (database down): retried with backoff
import type { Context } from 'faas-js-runtime';
import type { CloudEvent } from 'cloudevents';
import { Problem, type FunctionResponse } from './errors';
import { asUnavailable, type Tx } from './db';
import { eventTypes, isEventType, type EventData, type EventType } from './events/catalogue';
import { problemsOf, type JsonSchema } from './validate';
import { functionLogger, type Logger } from './log';
import { transaction, type Emit } from './outbox';
import { installRuntimeHooks } from './runtime-hooks';

installRuntimeHooks();

export interface ConsumeContext {
  tx: Tx;
  emit: Emit;
  event: CloudEvent<unknown>;
  log: Logger;
}

export type EventHandlers = { [T in EventType]?: (data: EventData<T>, ctx: ConsumeContext) => Promise<unknown> };

export interface ConsumerSpec {
  name: string;
  system: string;
  /** Topics this consumer's KafkaSource subscribes to. */
  topics: string[];
  summary: string;
}

export interface ConsumerHandler {
  (context: Context, event?: CloudEvent<unknown>): Promise<FunctionResponse>;
  spec: ConsumerSpec & { types: EventType[] };
}

const problemReply = (p: Problem) => p.response();

export function consume(spec: ConsumerSpec, handlers: EventHandlers): ConsumerHandler {
  const log = functionLogger(spec.name);
  const source = `/${spec.system}/${spec.name}`;
  const types = Object.keys(handlers) as EventType[];

  const handle = async (context: Context, event?: CloudEvent<unknown>) => {
    if (!event) {
      return problemReply(new Problem(400, 'CloudEvent Required', 'send a CloudEvent (binary ce-* headers or application/cloudevents+json)', [
        { name: 'header/ce-id', reason: 'is required' }, { name: 'header/ce-source', reason: 'is required' },
        { name: 'header/ce-type', reason: 'is required' }, { name: 'header/ce-specversion', reason: 'is required' },
      ]));
    }
    const meta = { id: event.id, source: event.source, type: event.type };
    const handler = (handlers as Record<string, ((data: unknown, ctx: ConsumeContext) => Promise<unknown>) | undefined>)[event.type];
    if (!isEventType(event.type) || !handler) {
      log.warn({ event: meta }, 'event type not handled here; dead-lettering');
      return problemReply(new Problem(400, 'Unknown Event Type', `${spec.name} handles ${types.join(', ')}`, [{ name: 'cloudevent/type', reason: `${event.type} is not handled` }]));
    }
    let data: unknown = event.data;
    if (typeof data === 'string') {
      try { data = JSON.parse(data); } catch { /* schema check reports it */ }
    } else if (Buffer.isBuffer(data)) {
      try { data = JSON.parse(data.toString('utf8')); } catch { /* schema check reports it */ }
    }
    const problems = problemsOf((eventTypes as unknown as Record<string, { schema: JsonSchema }>)[event.type].schema, data, 'data');
    if (problems.length) {
      log.warn({ event: meta, problems }, 'event data does not match the catalogue; dead-lettering');
      return problemReply(new Problem(400, 'Invalid Event Data', problems.map((p) => `${p.name}: ${p.reason}`).join('; '), problems));
    }
    try {
      const outcome = await transaction(source, async (tx, emit) => {
        // Inbox: the first delivery inserts the row; a redelivery finds it and has no effect.
        const fresh = await tx.$executeRaw`
          INSERT INTO inbox_event (consumer, source, id, type) VALUES (${spec.name}, ${event.source}, ${event.id}, ${event.type})
          ON CONFLICT DO NOTHING`;
        if (fresh === 0) return { duplicate: true as const };
        return { duplicate: false as const, result: await handler(data, { tx, emit, event, log }) };
      });
      log.info({ event: meta, duplicate: outcome.duplicate }, outcome.duplicate ? 'duplicate event ignored' : 'event handled');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: outcome.duplicate ? { status: 'duplicate' } : { status: 'processed', result: outcome.result ?? null },
      };
    } catch (err) {
      if (err instanceof Problem) {
        log.warn({ event: meta, problem: err.toJSON() }, 'event refused');
        // Knative's Kafka delivery retries 404 and 409; an event whose booking is missing or in the wrong
        // state will not improve with retries, so it goes out as 422 and reaches the dead-letter sink at once.
        if (err.status === 404 || err.status === 409) {
          return problemReply(new Problem(422, 'Unprocessable Event', err.detail, err.invalidParams));
        }
        return problemReply(err);
      }
      const down = asUnavailable(err);
      if (down) {
        log.warn({ event: meta, err: String(err) }, 'database unavailable; the event will be redelivered');
        return problemReply(down);
      }
      log.error({ event: meta, err }, 'event handler failed');
      return problemReply(new Problem(500, 'Internal Server Error', 'the consumer failed; the error is logged'));
    }
  };
  return Object.assign(handle, { spec: { ...spec, types } });
}
