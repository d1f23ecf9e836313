// Kafka through kafkajs: the client settings every part of the bundle shares, and the producer the outbox
// publisher sends with (acks from all in-sync replicas, one request in flight so a retried send cannot
// reorder a partition).
import type { Kafka, Producer } from 'kafkajs';
import type { Bus, BusRecord } from './bus';

// kafkajs loads on first use: most functions never publish, and a cold start pays for every module it loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajs = (): typeof import('kafkajs') => require('kafkajs');

export function kafkaBrokers(): string[] | undefined {
  const list = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  return list?.length ? list : undefined;
}

export function kafkaClient(clientId: string, brokers = kafkaBrokers()): Kafka {
  if (!brokers) throw new Error('KAFKA_BROKERS is not set');
  const { Kafka, logLevel } = kafkajs();
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.ERROR,
    connectionTimeout: Number(process.env.KAFKA_CONNECT_TIMEOUT_MS ?? 3000),
    requestTimeout: Number(process.env.KAFKA_REQUEST_TIMEOUT_MS ?? 10000),
    retry: { retries: Number(process.env.KAFKA_RETRIES ?? 3), initialRetryTime: 200 },
  });
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(private readonly brokers: string[]) {}

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
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
    await this.publish(records);
  }

  /** Sends the records (all replicas acknowledge) and says where each partition's first one landed. */
  async publish(records: BusRecord[]): Promise<Array<{ topic: string; partition: number; offset: number }>> {
    if (!records.length) return [];
    const producer = await this.connected();
    const byTopic = new Map<string, BusRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    const landed = await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
    return landed.map((m) => ({ topic: m.topicName, partition: m.partition, offset: Number(m.baseOffset ?? m.offset) }));
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect();
  }
}
