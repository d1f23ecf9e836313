// Where published events go: Kafka at KAFKA_BROKERS. A laptop (npm start, tests, npm run function) may
// register an in-process bus instead (scripts/lib/laptop); a function never falls back to one by itself,
// so in a cluster a missing KAFKA_BROKERS is an error, never events marked published and lost.
import { KafkaBus, kafkaBrokers } from './kafka';

export interface BusRecord {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  /** The record's bytes: text (JSON) as most events are, or bytes as they came (an event's data_base64). */
  value: string | Buffer | null;
}

/** Where a record landed. */
export interface RecordPlace {
  topic: string;
  partition: number;
  offset: number;
}

/** What a read of one partition after an offset found of the keys asked about (keysAfter). */
export interface KeysAfter {
  /** Offsets (ascending) at which each asked key appears after the offset. */
  offsets: Map<string, number[]>;
  /** Records read. */
  read: number;
  /** False when the read stopped at its cap (or its time bound) before the partition's end. */
  complete: boolean;
}

/** A record found carrying the header looked for (marked): the header's value and where the record sits. */
export interface MarkedRecord {
  value: string;
  partition: number;
  offset: number;
  /** The record's timestamp (ms since the epoch). */
  timestamp: number;
}

/** What a read of a topic for records carrying a header found (marked). */
export interface Marks {
  found: MarkedRecord[];
  /** Where each partition of the topic ended when the read began: the read went that far, records after it were not read. */
  ends: Map<number, number>;
  /** Records read. */
  read: number;
  /** False when a partition's read stopped at its cap (or its time bound) before its end. */
  complete: boolean;
}

export interface Bus {
  readonly kind: 'kafka' | 'memory';
  send(records: BusRecord[]): Promise<void>;
  /** send(), saying where each record landed (undefined where the bus cannot tell). */
  publish?(records: BusRecord[]): Promise<Array<RecordPlace | undefined>>;
  /**
   * For each partition in `after` (partition → offset), the offsets after it at which records with one of
   * `keys` sit, reading at most `cap` records of each partition. A bus without it cannot tell.
   */
  keysAfter?(topic: string, after: Map<number, number>, keys: Set<string>, cap: number): Promise<Map<number, KeysAfter>>;
  /** Where each partition of these topics ends (topic → partition → the offset the next record gets). */
  ends?(topics: string[]): Promise<Map<string, Map<number, number>>>;
  /**
   * The records of `topic` carrying `header`, read on each partition from its offset in `from` (a partition not
   * in it: from its start) to its end, at most `cap` records of each partition. A bus without it cannot tell.
   */
  marked?(topic: string, from: Map<number, number>, header: string, cap: number): Promise<Marks>;
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
