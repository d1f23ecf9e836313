// A system is a folder (functions/<system>/) that owns its contracts: the CloudEvent types it emits and
// accepts (topic, record key, JSON Schema of the data), its PostgreSQL schema (where its tables, outbox,
// inbox and idempotency records live) and the external topics it reads. Its system.ts defines it with
// defineSystem(); the bundle-wide catalogue, /openapi.json and README's tables are assembled from them.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export interface EventContract {
  topic: string;
  /** Field of the data that is the Kafka record key: one aggregate's events stay in order. */
  key: string;
  description: string;
  schema: JSONSchema & object;
}

export type EventCatalogue = Record<string, EventContract>;

export interface SystemDefinition<E extends EventCatalogue = EventCatalogue> {
  /** Folder name and label medlab.io/system, e.g. booking-queue. */
  name: string;
  /** The seed deployment this system replaces (label medlab.io/seed). */
  seed: string;
  /** PostgreSQL schema that holds the system's tables. */
  schema: string;
  /** Event types the system emits, and those it accepts from outside the bundle. */
  events: E;
  /** Topics written by systems outside the bundle that this system consumes, with who writes them. */
  externalTopics?: Record<string, string>;
}

export type System<E extends EventCatalogue = EventCatalogue> = Readonly<SystemDefinition<E>>;

export function defineSystem<const E extends EventCatalogue>(definition: SystemDefinition<E>): System<E> {
  // The schema name is written into raw SQL (outbox, inbox), so it must be a plain identifier.
  if (!/^[a-z][a-z0-9_]*$/.test(definition.schema)) throw new Error(`system ${definition.name}: schema "${definition.schema}" must be a lower-case identifier`);
  for (const [type, e] of Object.entries(definition.events)) {
    const props = (e.schema as { properties?: Record<string, unknown> }).properties ?? {};
    if (!(e.key in props)) throw new Error(`system ${definition.name}: event ${type} is keyed by ${e.key}, which its schema does not define`);
  }
  return Object.freeze(definition);
}

export type EventType<E extends EventCatalogue> = keyof E & string;
export type EventData<E extends EventCatalogue, T extends keyof E> = E[T]['schema'] extends infer S extends JSONSchema ? FromSchema<S> : never;

type EmitOne<E extends EventCatalogue, T extends EventType<E>> = (type: T, data: EventData<E, T>, options?: { subject?: string }) => Promise<void>;
type Overloads<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
/** emit(type, data): one overload per event type of the system, so data is checked against that type's schema. */
export type Emit<E extends EventCatalogue> = Overloads<{ [T in EventType<E>]: EmitOne<E, T> }[EventType<E>]>;
