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
