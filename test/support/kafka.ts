// What the Kafka tests share: the whole bundle on Kafka with a producer, a watcher that keeps every record of
// booking-events, and a topic read back, on this worker's Kafka mock broker (npm test starts one per worker).
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Bundle } from '../../scripts/lib/runtime/bundle';
import { closeBus } from '../../functions/shared/bus';
import { settleOutbox } from '../../functions/shared/publisher';
import { eventually } from './fixtures';

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

export interface BundleOnKafka {
  bundle: Bundle; kafka: Kafka; producer: Producer;
  /**
   * Waits until `check` answers, while the KafkaSources deliver: the outbox is published and the
   * ScaledObjects are asked to poll now rather than at their interval.
   */
  until<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Every function of the bundle wired as knative/ and keda/ declare it, its events on this worker's Kafka mock
 * broker, and a producer for the test. `topics` exist (empty) before the consumer groups subscribe: the mock
 * creates a topic on first use. stop() leaves the process on the in-process bus again.
 */
export async function startBundleOnKafka(clientId: string, topics: string[] = []): Promise<BundleOnKafka> {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  assert.ok(brokers, 'TEST_KAFKA_BROKERS is set by npm test (Kafka mock broker)');
  process.env.KAFKA_BROKERS = brokers;
  const kafka = new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  for (const topic of topics) await producer.send({ topic, messages: [] }).catch(() => undefined);
  const bundle = await new Bundle({ port: 0, schedules: false }).start();
  return {
    bundle, kafka, producer,
    until: (check, what, timeoutMs = 90_000) => eventually(async () => { await settleOutbox(); await bundle.pollScalers(); return check(); }, what, timeoutMs, 200),
    stop: async () => {
      await bundle.stop();
      await producer.disconnect();
      await settleOutbox();
      await closeBus();
      delete process.env.KAFKA_BROKERS;
    },
  };
}
