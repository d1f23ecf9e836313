// In-process stand-in for Kafka on a laptop: per-topic partitioned logs, keyed partitioning, listeners on
// append, so the local runtime's KafkaSources can deliver from it the way they deliver from Kafka.
import { createHash } from 'node:crypto';
import type { Bus, BusRecord, KeysAfter, Marks, RecordPlace } from '../../../functions/shared/bus';

export interface StoredRecord extends BusRecord {
  partition: number;
  offset: number;
  timestamp: number;
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly partitions: number;
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly listeners = new Set<(topic: string, partition: number) => void>();
  private readonly clearListeners = new Set<() => void>();

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
    this.append(records);
  }

  /** Appends records (to `partition` when given, else by key) and says where each landed. */
  append(records: Array<BusRecord & { partition?: number }>): Array<{ topic: string; partition: number; offset: number }> {
    const placed = records.map((r) => {
      const partition = r.partition ?? this.partitionFor(r.key);
      const log = this.log(r.topic)[partition];
      const { partition: _p, ...record } = r;
      log.push({ ...record, partition, offset: log.length, timestamp: Date.now() });
      return { topic: r.topic, partition, offset: log.length - 1 };
    });
    for (const { topic, partition } of placed) for (const l of this.listeners) l(topic, partition);
    return placed;
  }

  async publish(records: BusRecord[]): Promise<RecordPlace[]> {
    return this.append(records);
  }

  async keysAfter(topic: string, after: Map<number, number>, keys: Set<string>, cap: number): Promise<Map<number, KeysAfter>> {
    const found = new Map<number, KeysAfter>();
    for (const [partition, offset] of after) {
      const log = this.log(topic)[partition] ?? [];
      const read = log.slice(offset + 1, offset + 1 + cap);
      const offsets = new Map<string, number[]>();
      for (const r of read) if (r.key !== null && keys.has(r.key)) offsets.set(r.key, [...(offsets.get(r.key) ?? []), r.offset]);
      found.set(partition, { offsets, read: read.length, complete: offset + 1 + cap >= log.length });
    }
    return found;
  }

  async ends(topics: string[]): Promise<Map<string, Map<number, number>>> {
    return new Map(topics.map((topic) => [topic, new Map(this.log(topic).map((records, partition) => [partition, records.length]))]));
  }

  async marked(topic: string, from: Map<number, number>, header: string, cap: number): Promise<Marks> {
    const marks: Marks = { found: [], ends: new Map(), read: 0, complete: true };
    this.log(topic).forEach((log, partition) => {
      const start = from.get(partition) ?? 0;
      const read = log.slice(start, start + cap);
      marks.ends.set(partition, log.length);
      marks.read += read.length;
      if (start + cap < log.length) marks.complete = false;
      for (const r of read) if (r.headers[header] !== undefined) marks.found.push({ value: r.headers[header], partition, offset: r.offset, timestamp: r.timestamp });
    });
    return marks;
  }

  /** Every record on a topic, partition by partition (tests and the log view use it). */
  records(topic: string): StoredRecord[] {
    return this.log(topic).flat();
  }

  onAppend(listener: (topic: string, partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

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
