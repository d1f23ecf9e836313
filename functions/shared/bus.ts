// Where published events go. Kafka (kafkajs) when KAFKA_BROKERS is set; otherwise an in-process bus that
// keeps a partitioned log per topic like Kafka does, so the local runtime can deliver from it the same way.
import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';

export interface BusRecord {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: string | null;
}

export interface Bus {
  readonly kind: 'kafka' | 'memory';
  send(records: BusRecord[]): Promise<void>;
  close(): Promise<void>;
}

export function kafkaBrokers(): string[] | undefined {
  const list = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  return list?.length ? list : undefined;
}

export function kafkaClient(clientId: string, brokers = kafkaBrokers()): Kafka {
  if (!brokers) throw new Error('KAFKA_BROKERS is not set');
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.ERROR,
    connectionTimeout: Number(process.env.KAFKA_CONNECT_TIMEOUT_MS ?? 3000),
    requestTimeout: Number(process.env.KAFKA_REQUEST_TIMEOUT_MS ?? 10000),
    retry: { retries: Number(process.env.KAFKA_RETRIES ?? 3), initialRetryTime: 200 },
  });
}

class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(private readonly brokers: string[]) {}

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      // One request in flight keeps records of a partition in order even when a send is retried.
      const producer = kafkaClient('outbox-publisher', this.brokers).producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true });
      try {
        await producer.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      producer.on(producer.events.DISCONNECT, () => { this.producer = undefined; this.connecting = undefined; });
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  async send(records: BusRecord[]): Promise<void> {
    if (!records.length) return;
    const producer = await this.connected();
    const byTopic = new Map<string, BusRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect();
  }
}

export interface StoredRecord extends BusRecord {
  partition: number;
  offset: number;
  timestamp: number;
}

/** In-process stand-in for Kafka: per-topic partitioned logs, keyed partitioning, listeners on append. */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly partitions: number;
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly listeners = new Set<(topic: string, partition: number) => void>();

  constructor(partitions = 4) {
    this.partitions = partitions;
  }

  partitionFor(key: string | null): number {
    if (key === null) return Math.floor(Math.random() * this.partitions);
    return createHash('md5').update(key).digest().readUInt32BE(0) % this.partitions;
  }

  log(topic: string): StoredRecord[][] {
    let l = this.logs.get(topic);
    if (!l) {
      l = Array.from({ length: this.partitions }, () => []);
      this.logs.set(topic, l);
    }
    return l;
  }

  async send(records: BusRecord[]): Promise<void> {
    const touched: Array<[string, number]> = [];
    for (const r of records) {
      const partition = this.partitionFor(r.key);
      const log = this.log(r.topic)[partition];
      log.push({ ...r, partition, offset: log.length, timestamp: Date.now() });
      touched.push([r.topic, partition]);
    }
    for (const [topic, partition] of touched) for (const l of this.listeners) l(topic, partition);
  }

  /** Every record on a topic, partition by partition (tests and the log view use it). */
  records(topic: string): StoredRecord[] {
    return this.log(topic).flat();
  }

  onAppend(listener: (topic: string, partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly clearListeners = new Set<() => void>();

  /** Empties every topic (tests); consumer groups reading the bus start again from offset 0. */
  clear(): void {
    this.logs.clear();
    for (const l of this.clearListeners) l();
  }

  onClear(listener: () => void): () => void {
    this.clearListeners.add(listener);
    return () => this.clearListeners.delete(listener);
  }

  async close(): Promise<void> {}
}

export const memoryBus = new MemoryBus();
let kafkaBus: KafkaBus | undefined;

export function bus(): Bus {
  const brokers = kafkaBrokers();
  if (!brokers) return memoryBus;
  kafkaBus ??= new KafkaBus(brokers);
  return kafkaBus;
}

export async function closeBus(): Promise<void> {
  await kafkaBus?.close();
  kafkaBus = undefined;
}
