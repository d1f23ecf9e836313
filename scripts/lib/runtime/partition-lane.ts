// One partition of one consumer-group member: the records taken from it and not finished yet. Ordered
// delivers them one at a time in offset order; unordered all side by side. Either way the offset committed
// is the oldest unfinished record's (or the one after the last record), so a process that dies loses
// nothing: what it had not finished is delivered again. A lane holds at most `capacity` unfinished records;
// the member stops fetching the partition while it is full. Lanes of one member never wait for each other.
import type { KafkaRecord } from './cloudevents';

/** Unfinished records a partition holds at most, by default: Knative's max.poll.records default (50). */
export const PARTITION_CAPACITY = 50;
const COMMIT_RETRY_MS = 1000;

export interface LaneOptions {
  ordered: boolean;
  capacity?: number;
  /** Delivers a record; false when it did not finish (interrupted), so its offset must not be committed. */
  handle(record: KafkaRecord, signal: AbortSignal): Promise<boolean>;
  /** Commits `offset` (the next record to read) for the partition; false when that failed (tried again later). */
  commit(offset: number): Promise<boolean> | boolean;
  /** A full lane has room again. */
  onRoom?(): void;
}

interface Entry { offset: number; record?: KafkaRecord; started: boolean; done: boolean }

export class PartitionLane {
  private entries: Entry[] = [];
  /** Offset after the last record taken. */
  private next?: number;
  private committed = -1;
  private committing?: Promise<void>;
  private commitAgain = false;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  readonly capacity: number;

  constructor(private readonly options: LaneOptions) {
    this.capacity = options.capacity ?? PARTITION_CAPACITY;
  }

  /** Unfinished records held (waiting and in flight). */
  get unfinished(): number {
    return this.entries.filter((e) => !e.done).length;
  }

  get full(): boolean {
    return this.unfinished >= this.capacity;
  }

  /** Takes a record; a record at or below one already taken (a re-fetch after a rebalance) is skipped. */
  take(record: KafkaRecord): 'taken' | 'duplicate' | 'closed' {
    if (this.closed) return 'closed';
    const offset = Number(record.offset);
    if (this.next !== undefined && offset < this.next) return 'duplicate';
    this.entries.push({ offset, record, started: false, done: false });
    this.next = offset + 1;
    this.pump();
    return 'taken';
  }

  private pump(): void {
    if (this.closed) return;
    if (this.options.ordered) {
      if (this.entries.some((e) => e.started && !e.done)) return;
      const first = this.entries.find((e) => !e.started);
      if (first) this.start(first);
    } else {
      for (const e of this.entries) if (!e.started) this.start(e);
    }
  }

  private start(entry: Entry): void {
    entry.started = true;
    const record = entry.record!;
    const work = this.options.handle(record, this.abort.signal).catch(() => false).then((finished) => {
      this.running.delete(work);
      if (this.closed) return;
      const wasFull = this.full;
      if (finished) {
        entry.done = true;
        entry.record = undefined;
        this.scheduleCommit();
      }
      this.pump();
      if (wasFull && !this.full) this.options.onRoom?.();
    });
    this.running.add(work);
  }

  /** The offset to commit: the oldest unfinished record, or the one after the last record taken. */
  private commitPoint(): number | undefined {
    while (this.entries[0]?.done) this.entries.shift();
    return this.entries[0]?.offset ?? this.next;
  }

  private scheduleCommit(): void {
    if (this.committing) { this.commitAgain = true; return; }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        const point = this.commitPoint();
        if (this.closed || point === undefined || point <= this.committed) break;
        if (await this.options.commit(point)) this.committed = Math.max(this.committed, point);
        // A failed commit (a rebalance, the broker away) is tried again: the partition may get no more records.
        else if (!this.closed) setTimeout(() => this.scheduleCommit(), COMMIT_RETRY_MS).unref();
      } while (this.commitAgain);
    })().catch(() => undefined).finally(() => { this.committing = undefined; });
  }

  /**
   * Hands the partition over: records not started are let go (read again from the committed offset by
   * whoever gets the partition), those in flight finish and are committed.
   */
  async settle(): Promise<void> {
    const waiting = this.entries.filter((e) => !e.started);
    this.entries = this.entries.filter((e) => e.started);
    if (waiting.length) this.next = waiting[0].offset;
    while (this.running.size) await Promise.allSettled([...this.running]);
    await this.committing;
    this.scheduleCommit();
    await this.committing;
    this.closed = true;
  }

  /**
   * Stops at once: deliveries in flight are aborted (interrupted), nothing more is committed; the records
   * not finished are delivered again from the committed offset. Resolves when no delivery is running.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.entries = [];
    this.abort.abort();
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
