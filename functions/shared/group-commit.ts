// Group commit: items that callers hand in together (in the same turn of the event loop, or while earlier
// writes are still in flight) are written together by one call of `write`, one statement, and each caller
// gets its own result back, or the error of its own write. When little arrives a write carries one item and
// waits for nothing (one setImmediate); under load writes grow instead of queueing for connections.

export interface GroupCommitOptions<T> {
  /** Items in one write at the most. */
  maxItems: number;
  /** Writes in flight at once; what arrives meanwhile waits and goes in the next write. */
  maxWrites: number;
  /** Items with the same key never share a write (one statement cannot change a row twice): a repeat goes in a later one. */
  keyOf: (item: T) => string;
  /** Bytes in one write at the most, as sizeOf weighs an item (an item larger than this goes alone). */
  maxBytes?: number;
  sizeOf?: (item: T) => number;
  /**
   * Whether a write of several items that failed with this error is tried again item by item, so that an item
   * that cannot be written fails alone and takes none of the others with it.
   */
  isolate?: (err: unknown) => boolean;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

interface Batch<T, R> {
  waiting: Array<Waiting<T, R>>;
  keys: Set<string>;
  bytes: number;
}

/**
 * Returns keep(item), which resolves with the item's result once the write carrying it has committed.
 * `write` is given items in the order they arrived and answers one result per item, in the same order
 * (undefined: none, which fails that item).
 */
export function groupCommit<T, R>(write: (items: T[]) => Promise<Array<R | undefined>>, options: GroupCommitOptions<T>): (item: T) => Promise<R> {
  const { maxItems, maxWrites, keyOf, maxBytes = Infinity, sizeOf = () => 0, isolate = () => false } = options;
  /** Batches not yet written, oldest first. */
  const queue: Array<Batch<T, R>> = [];
  let writing = 0;
  let sendScheduled = false;

  function send(): void {
    sendScheduled = false;
    while (writing < maxWrites && queue.length) void commit(queue.shift()!);
  }

  async function commit(batch: Batch<T, R>): Promise<void> {
    writing++;
    try {
      await settle(batch.waiting);
    } finally {
      writing--;
      send();
    }
  }

  /** Writes the items and answers each caller; never throws. */
  async function settle(waiting: Array<Waiting<T, R>>): Promise<void> {
    let results: Array<R | undefined>;
    try {
      results = await write(waiting.map((w) => w.item));
    } catch (err) {
      if (waiting.length > 1 && isolate(err)) {
        await Promise.all(waiting.map((w) => settle([w])));
        return;
      }
      for (const w of waiting) w.reject(err);
      return;
    }
    waiting.forEach((w, i) => {
      const result = results[i];
      if (result === undefined) w.reject(new Error('the write answered no result for this item'));
      else w.resolve(result);
    });
  }

  return (item) => new Promise<R>((resolve, reject) => {
    const key = keyOf(item);
    const bytes = sizeOf(item);
    let batch = queue.find((b) => b.waiting.length < maxItems && !b.keys.has(key) && b.bytes + bytes <= maxBytes);
    if (!batch) queue.push((batch = { waiting: [], keys: new Set(), bytes: 0 }));
    batch.waiting.push({ item, resolve, reject });
    batch.keys.add(key);
    batch.bytes += bytes;
    if (!sendScheduled) {
      sendScheduled = true;
      setImmediate(send);
    }
  });
}
