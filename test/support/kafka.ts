// What the Kafka tests share: a producer, and a watcher that keeps every record of booking-events, on this
// worker's Kafka mock broker (npm test starts one per worker).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';

export interface Seen { key: string | null; headers: Record<string, string>; value: any }

export interface BookingEventsWatch {
  producer: Producer;
  /** Every record of booking-events so far, headers as text, value parsed. */
  seen: Seen[];
  stop(): Promise<void>;
}

export async function watchBookingEvents(brokers: string, clientId: string): Promise<BookingEventsWatch> {
  const kafka = new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  // The topics exist before any consumer subscribes (the mock creates them on first use).
  await producer.send({ topic: 'booking-events', messages: [{ key: 'warmup', value: '{}' }] });
  await producer.send({ topic: 'booking-requests', messages: [] }).catch(() => undefined);
  const seen: Seen[] = [];
  const watcher = kafka.consumer({ groupId: `${clientId}-watcher-${randomUUID()}` });
  await watcher.connect();
  await watcher.subscribe({ topic: 'booking-events', fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      seen.push({ key: message.key?.toString() ?? null, headers, value: JSON.parse(message.value?.toString() ?? 'null') });
    },
  });
  return {
    producer,
    seen,
    stop: async () => {
      await watcher.disconnect();
      await producer.disconnect();
    },
  };
}

/** Every record on a topic up to where its partitions end now (a consumer of its own, from the beginning), headers as text. */
export async function readTopic(brokers: string, topic: string): Promise<Array<{ partition: number; offset: number; key: string | null; headers: Record<string, string> }>> {
  const kafka = new Kafka({ clientId: 'read-topic', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
  const wanted = ends.reduce((n, p) => n + p.high - p.low, 0);
  const records: Array<{ partition: number; offset: number; key: string | null; headers: Record<string, string> }> = [];
  const groupId = `read-topic-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId });
  try {
    if (!wanted) return records;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => { finished = resolve; });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset >= ends.find((p) => p.partition === partition)!.high) return;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        records.push({ partition, offset, key: message.key?.toString() ?? null, headers });
        if (records.length === wanted) finished();
      },
    });
    await done;
    return records;
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
