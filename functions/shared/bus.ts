// Where published events go: Kafka at KAFKA_BROKERS. A laptop (npm start, tests, npm run function) may
// register an in-process bus instead (scripts/lib/laptop); a function never falls back to one by itself,
// so in a cluster a missing KAFKA_BROKERS is an error, never events marked published and lost.
import { KafkaBus, kafkaBrokers } from './kafka';

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

let kafkaBus: KafkaBus | undefined;
let laptopBus: Bus | undefined;

/** The laptop's stand-in for Kafka, used only while KAFKA_BROKERS is unset. Refused in production. */
export function useLaptopBus(b: Bus): void {
  if (process.env.NODE_ENV === 'production') throw new Error('the in-process bus is laptop machinery; set KAFKA_BROKERS in production');
  laptopBus = b;
}

export function bus(): Bus {
  const brokers = kafkaBrokers();
  if (brokers) return (kafkaBus ??= new KafkaBus(brokers));
  if (laptopBus) return laptopBus;
  throw new Error('KAFKA_BROKERS is not set: there is nowhere to publish events');
}

export async function closeBus(): Promise<void> {
  await kafkaBus?.close();
  kafkaBus = undefined;
}
