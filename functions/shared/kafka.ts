// Kafka through kafkajs: the client settings every part of the bundle shares, and the producer the outbox
// publisher sends with (acks from all in-sync replicas, one request in flight so a retried send cannot
// reorder a partition).
import { randomUUID } from 'node:crypto';
import type { Kafka, Message, PartitionerArgs, Producer } from 'kafkajs';
import type { Bus, BusRecord, KeysAfter, RecordPlace } from './bus';

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

/**
 * kafkajs's default partitioner (murmur2 of the key, as Java clients place keys), remembering the partition
 * it chose for each message, so a send can say where each record landed.
 */
const chosenPartition = new WeakMap<object, number>();
function rememberingPartitioner() {
  const partitionOf = kafkajs().Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs) => {
    const partition = partitionOf(args);
    chosenPartition.set(args.message, partition);
    return partition;
  };
}

/** How long a dry run's read of a topic may take before it answers with what it has. */
const KEYS_AFTER_MS = Number(process.env.KAFKA_KEYS_AFTER_TIMEOUT_MS ?? 10_000);

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(private readonly brokers: string[]) {}

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = kafkaClient('outbox-publisher', this.brokers).producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: rememberingPartitioner });
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

  /** Sends the records (all replicas acknowledge) and says where each landed. */
  async publish(records: BusRecord[]): Promise<RecordPlace[]> {
    if (!records.length) return [];
    const producer = await this.connected();
    const messages: Message[] = records.map((r) => ({ key: r.key, value: r.value, headers: r.headers }));
    const byTopic = new Map<string, Message[]>();
    records.forEach((r, i) => byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), messages[i]]));
    const landed = await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, ms]) => ({ topic, messages: ms })) });
    // A partition's messages go in the order given, from the base offset the broker answers for it.
    const next = new Map(landed.map((m) => [`${m.topicName}/${m.partition}`, Number(m.baseOffset ?? m.offset)]));
    return records.map((r, i) => {
      const partition = chosenPartition.get(messages[i]) ?? landed.find((m) => m.topicName === r.topic)!.partition;
      const at = `${r.topic}/${partition}`;
      const offset = next.get(at)!;
      next.set(at, offset + 1);
      return { topic: r.topic, partition, offset };
    });
  }

  /**
   * A short-lived consumer (a group of its own, removed after) reads each partition from the offset after the
   * one given up to the high watermark, at most `cap` records, within KAFKA_KEYS_AFTER_TIMEOUT_MS.
   */
  async keysAfter(topic: string, after: Map<number, number>, keys: Set<string>, cap: number): Promise<Map<number, KeysAfter>> {
    const client = kafkaClient('dead-letter-redrive-plan', this.brokers);
    const admin = client.admin();
    await admin.connect();
    const found = new Map<number, KeysAfter>();
    try {
      const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
      const ranges = new Map<number, { from: number; to: number }>();
      for (const [partition, offset] of after) {
        const end = high.get(partition) ?? 0;
        const to = Math.min(end, offset + 1 + cap);
        found.set(partition, { offsets: new Map(), read: 0, complete: to >= end });
        if (offset + 1 < to) ranges.set(partition, { from: offset + 1, to });
      }
      if (!ranges.size) return found;
      const groupId = `dead-letter-redrive-plan-${randomUUID()}`;
      const consumer = client.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
      const pending = new Set(ranges.keys());
      let finished!: () => void;
      const done = new Promise<void>((resolve) => { finished = resolve; });
      const close = (partition: number) => {
        pending.delete(partition);
        consumer.pause([{ topic, partitions: [partition] }]);
        if (!pending.size) finished();
      };
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = ranges.get(partition);
            const offset = Number(message.offset);
            if (!range || !pending.has(partition) || offset < range.from) return;
            if (offset >= range.to) return close(partition);
            const reading = found.get(partition)!;
            reading.read++;
            const key = message.key?.toString('utf8');
            if (key !== undefined && keys.has(key)) reading.offsets.set(key, [...(reading.offsets.get(key) ?? []), offset]);
            if (offset >= range.to - 1) close(partition);
          },
        });
        for (const [partition, { from }] of ranges) consumer.seek({ topic, partition, offset: String(from) });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((resolve) => { timer = setTimeout(resolve, KEYS_AFTER_MS); })]);
        clearTimeout(timer);
        for (const p of pending) found.get(p)!.complete = false;
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
      return found;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect();
  }
}
