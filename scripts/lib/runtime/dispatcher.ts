// A KafkaSource on a laptop: consumes its topics as its consumer group, turns records into CloudEvents
// as Knative does, and delivers them to the sink with the source's delivery spec. With KAFKA_BROKERS it
// is a kafkajs consumer group on real Kafka; without, it reads the in-process bus's partitioned log.
// ordering: ordered (default) delivers one record at a time per partition; unordered does not wait.
import type { Consumer } from 'kafkajs';
import { kafkaClient, memoryBus, type MemoryBus } from '../../../functions/shared/bus';
import type { KafkaSourceManifest } from '../manifests';
import { recordToEvent, type KafkaRecord } from './cloudevents';
import { deliver, type DeliveryResult } from './delivery';
import { logger } from '../../../functions/shared/log';

export interface SourceBinding {
  source: KafkaSourceManifest;
  sinkUrl: string;
  deadLetterUrl?: string;
}

export interface Dispatcher {
  readonly source: KafkaSourceManifest;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Records handled so far, by outcome. */
  readonly counts: Record<DeliveryResult['outcome'], number>;
}

const log = logger.child({ component: 'kafka-source' });

abstract class BaseDispatcher implements Dispatcher {
  readonly counts = { delivered: 0, 'dead-lettered': 0, dropped: 0 };
  protected stopped = false;
  constructor(protected readonly binding: SourceBinding) {}
  get source() { return this.binding.source; }
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  protected async handle(record: KafkaRecord): Promise<void> {
    const { source, sinkUrl, deadLetterUrl } = this.binding;
    let event;
    try {
      event = recordToEvent(record, source);
    } catch (err) {
      // Headers claim a CloudEvent but it is malformed: Knative cannot deliver it either; drop with a log.
      log.error({ source: source.name, topic: record.topic, partition: record.partition, offset: record.offset, err: String(err) }, 'record is not a valid CloudEvent; dropped');
      this.counts.dropped++;
      return;
    }
    const result = await deliver(event, sinkUrl, source.delivery, deadLetterUrl, {
      stopped: () => this.stopped,
      onAttempt: (attempt, code, error) => {
        if (code === undefined || code >= 300) log.warn({ source: source.name, event: { id: event.id, type: event.type }, attempt, code, error }, 'delivery attempt failed');
      },
    });
    this.counts[result.outcome]++;
    const line = { source: source.name, topic: record.topic, partition: record.partition, offset: record.offset, event: { id: event.id, type: event.type }, ...result };
    if (result.outcome === 'delivered') log.info(line, `delivered ${event.type} → ${source.sink.service ?? source.sink.uri}`);
    else log.error(line, result.outcome === 'dead-lettered' ? 'event sent to the dead-letter sink' : 'event dropped after retries (no dead-letter sink)');
  }
}

/** Reads the in-process bus like a consumer group: committed offset per partition, in memory. */
export class MemoryDispatcher extends BaseDispatcher {
  private readonly committed = new Map<string, number>();
  private readonly busy = new Set<string>();
  private unsubscribe?: () => void;
  private inFlight = new Set<Promise<void>>();

  constructor(binding: SourceBinding, private readonly bus: MemoryBus = memoryBus) {
    super(binding);
  }

  async start(): Promise<void> {
    for (const topic of this.source.topics) {
      this.bus.log(topic).forEach((records, p) => {
        this.committed.set(`${topic}/${p}`, this.source.initialOffset === 'earliest' ? 0 : records.length);
      });
    }
    this.unsubscribe = this.bus.onAppend((topic, partition) => {
      if (this.source.topics.includes(topic)) this.pump(topic, partition);
    });
    for (const topic of this.source.topics) for (let p = 0; p < this.bus.partitions; p++) this.pump(topic, p);
  }

  private pump(topic: string, partition: number): void {
    const key = `${topic}/${partition}`;
    if (this.busy.has(key) || this.stopped) return;
    this.busy.add(key);
    const run = (async () => {
      const log = this.bus.log(topic)[partition];
      while (!this.stopped) {
        const next = this.committed.get(key) ?? 0;
        if (next >= log.length) break;
        const r = log[next];
        const record: KafkaRecord = { topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp };
        if (this.source.ordering === 'ordered') await this.handle(record);
        else this.track(this.handle(record));
        this.committed.set(key, next + 1);
      }
    })().finally(() => {
      this.busy.delete(key);
      // Records appended while finishing: look again.
      const log = this.bus.log(topic)[partition];
      if (!this.stopped && (this.committed.get(key) ?? 0) < log.length) this.pump(topic, partition);
    });
    this.track(run);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
  }

  /** Resolves when every record appended so far has been handled (tests use it). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.idle();
  }
}

/** A kafkajs consumer group per KafkaSource, committing an offset only after its record was handled. */
export class KafkaDispatcher extends BaseDispatcher {
  private consumer?: Consumer;

  constructor(binding: SourceBinding, private readonly brokers: string[]) {
    super(binding);
  }

  async start(): Promise<void> {
    const consumer = kafkaClient(`kafkasource-${this.source.name}`, this.brokers).consumer({
      groupId: this.source.consumerGroup,
      allowAutoTopicCreation: true,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    for (const topic of this.source.topics) await consumer.subscribe({ topic, fromBeginning: this.source.initialOffset === 'earliest' });
    await consumer.run({
      autoCommit: true,
      partitionsConsumedConcurrently: 8,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        const work = this.handle({
          topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null, headers, timestamp: message.timestamp,
        });
        if (this.source.ordering === 'unordered') { work.catch(() => undefined); return; }
        // Long retries must not cost the group membership.
        const beat = setInterval(() => heartbeat().catch(() => undefined), 3000);
        try { await work; } finally { clearInterval(beat); }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
