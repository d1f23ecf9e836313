// Kafka through kafkajs: the client settings every part of the bundle shares, and the producer the outbox
// publisher sends with (acks from all in-sync replicas, one request in flight so a retried send cannot
// reorder a partition).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage, Message, PartitionerArgs, Producer } from 'kafkajs';
import type { Bus, BusRecord, KeysAfter, Marks, RecordPlace } from './bus';

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
/** How long a read for marked records (a redrive taken over) may take before it answers with what it has. */
const MARKED_MS = Number(process.env.KAFKA_MARKED_TIMEOUT_MS ?? 30_000);

type PartitionOffsets = Map<number, { low: number; high: number }>;
type Ranges = Map<number, { from: number; to: number }>;

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** For ends(): a redrive asks every few seconds. */
  private admin: Promise<Admin> | undefined;

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
    records.forEach((r, i) => {
      const list = byTopic.get(r.topic);
      if (list) list.push(messages[i]);
      else byTopic.set(r.topic, [messages[i]]);
    });
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

  /** Reads each partition given after its offset up to its end (at most `cap` records of each): the keys asked about. */
  async keysAfter(topic: string, after: Map<number, number>, keys: Set<string>, cap: number): Promise<Map<number, KeysAfter>> {
    const found = new Map<number, KeysAfter>();
    const unfinished = await this.read('dead-letter-redrive-plan', topic, (offsets) => {
      const ranges: Ranges = new Map();
      for (const [partition, offset] of after) {
        const end = offsets.get(partition)?.high ?? 0;
        const to = Math.min(end, offset + 1 + cap);
        found.set(partition, { offsets: new Map(), read: 0, complete: to >= end });
        if (offset + 1 < to) ranges.set(partition, { from: offset + 1, to });
      }
      return ranges;
    }, (partition, message) => {
      const reading = found.get(partition)!;
      reading.read++;
      const key = message.key?.toString('utf8');
      if (key !== undefined && keys.has(key)) reading.offsets.set(key, [...(reading.offsets.get(key) ?? []), Number(message.offset)]);
    }, KEYS_AFTER_MS);
    for (const p of unfinished) found.get(p)!.complete = false;
    return found;
  }

  async ends(topics: string[]): Promise<Map<string, Map<number, number>>> {
    const admin = await this.connectedAdmin();
    const out = new Map<string, Map<number, number>>();
    for (const topic of topics) out.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])));
    return out;
  }

  /** Reads every partition of the topic from `from` (or its start) up to its end, at most `cap` records of each. */
  async marked(topic: string, from: Map<number, number>, header: string, cap: number): Promise<Marks> {
    const marks: Marks = { found: [], ends: new Map(), read: 0, complete: true };
    const unfinished = await this.read('dead-letter-redrive-marks', topic, (offsets) => {
      const ranges: Ranges = new Map();
      for (const [partition, { low, high }] of offsets) {
        const start = Math.max(from.get(partition) ?? low, low);
        const to = Math.min(high, start + cap);
        marks.ends.set(partition, high);
        if (to < high) marks.complete = false;
        if (start < to) ranges.set(partition, { from: start, to });
      }
      return ranges;
    }, (partition, message) => {
      marks.read++;
      const value = message.headers?.[header];
      const last = Array.isArray(value) ? value.at(-1) : value;
      if (last !== undefined) marks.found.push({ value: last.toString(), partition, offset: Number(message.offset), timestamp: Number(message.timestamp) });
    }, MARKED_MS);
    if (unfinished.size) marks.complete = false;
    return marks;
  }

  private connectedAdmin(): Promise<Admin> {
    return (this.admin ??= (async () => {
      const admin = kafkaClient('dead-letter-redrive-admin', this.brokers).admin();
      try {
        await admin.connect();
      } catch (err) {
        this.admin = undefined;
        throw err;
      }
      return admin;
    })());
  }

  /**
   * A short-lived consumer (a group of its own, removed after) reads the ranges `rangesOf` picks from the
   * topic's partition offsets (each from its `from` up to before its `to`), handing each record to `visit`,
   * within `timeoutMs`. Answers the partitions whose range was not read to its end in time.
   */
  private async read(clientId: string, topic: string, rangesOf: (offsets: PartitionOffsets) => Ranges, visit: (partition: number, message: KafkaMessage) => void, timeoutMs: number): Promise<Set<number>> {
    const client = kafkaClient(clientId, this.brokers);
    const admin = client.admin();
    await admin.connect();
    try {
      const ranges = rangesOf(new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }])));
      const pending = new Set(ranges.keys());
      if (!pending.size) return pending;
      const groupId = `${clientId}-${randomUUID()}`;
      const consumer = client.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
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
            visit(partition, message);
            if (offset >= range.to - 1) close(partition);
          },
        });
        for (const [partition, { from }] of ranges) consumer.seek({ topic, partition, offset: String(from) });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
        clearTimeout(timer);
        return pending;
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    const a = this.admin;
    this.producer = undefined;
    this.connecting = undefined;
    this.admin = undefined;
    await Promise.all([p?.disconnect(), a?.then((admin) => admin.disconnect(), () => undefined)]);
  }
}
