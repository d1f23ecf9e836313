// Group commit as its callers see it: what they hand in together is written together, each gets its own
// result, and a failed write answers only its own callers.
import { strict as assert } from 'node:assert';
import { groupCommit, type GroupCommitOptions } from './group-commit';

interface Letter {
  event: string;
  size?: number;
}

/** A store whose writes are recorded; `fail` decides whether a write throws, and with what. */
function store(options: Partial<GroupCommitOptions<Letter>> = {}, fail: (items: Letter[]) => Error | undefined = () => undefined) {
  const writes: string[][] = [];
  const attempts = new Map<string, number>();
  const keep = groupCommit(async (items: Letter[]) => {
    writes.push(items.map((l) => l.event));
    const err = fail(items);
    if (err) throw err;
    return items.map((l) => {
      attempts.set(l.event, (attempts.get(l.event) ?? 0) + 1);
      return `${l.event}#${attempts.get(l.event)}`;
    });
  }, { maxItems: 200, maxWrites: 2, keyOf: (l) => l.event, ...options });
  return { keep, writes };
}

const outcome = (p: Promise<string>) => p.then((r) => r, (err: Error) => `failed: ${err.message}`);

describe('group commit', () => {
  it('letters handed in together are written in one write, and each caller gets its own result', async () => {
    const { keep, writes } = store();
    const answers = await Promise.all(['a', 'b', 'c'].map((event) => keep({ event })));
    assert.deepEqual(answers, ['a#1', 'b#1', 'c#1']);
    assert.deepEqual(writes, [['a', 'b', 'c']]);
  });

  it('a write carries maxItems letters at the most; the rest go in the next', async () => {
    const { keep, writes } = store({ maxItems: 2 });
    const answers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((event) => keep({ event })));
    assert.deepEqual(answers, ['a#1', 'b#1', 'c#1', 'd#1', 'e#1']);
    assert.deepEqual(writes, [['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('a letter larger than maxBytes goes alone; the others share writes up to the bound', async () => {
    const { keep, writes } = store({ maxBytes: 100, sizeOf: (l) => l.size ?? 0 });
    await Promise.all([keep({ event: 'a', size: 60 }), keep({ event: 'huge', size: 500 }), keep({ event: 'b', size: 40 }), keep({ event: 'c', size: 10 })]);
    assert.deepEqual(writes, [['a', 'b'], ['huge'], ['c']]);
  });

  it('the same letter twice never shares a write: the second counts a second attempt', async () => {
    const { keep, writes } = store();
    const answers = await Promise.all([keep({ event: 'a' }), keep({ event: 'a' }), keep({ event: 'b' })]);
    assert.deepEqual(answers, ['a#1', 'a#2', 'b#1']);
    assert.deepEqual(writes, [['a', 'b'], ['a']]);
  });

  it('while maxWrites writes are in flight, what arrives waits and goes together in the next write', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let started!: () => void;
    const writing = new Promise<void>((r) => { started = r; });
    const writes: string[][] = [];
    const keep = groupCommit(async (items: Letter[]) => {
      writes.push(items.map((l) => l.event));
      started();
      await held;
      return items.map((l) => l.event);
    }, { maxItems: 200, maxWrites: 1, keyOf: (l) => l.event });
    const first = keep({ event: 'a' });
    await writing;
    const later = [keep({ event: 'b' }), keep({ event: 'c' })];
    assert.deepEqual(writes, [['a']], 'b and c wait for the write in flight');
    release();
    assert.deepEqual(await Promise.all([first, ...later]), ['a', 'b', 'c']);
    assert.deepEqual(writes, [['a'], ['b', 'c']]);
  });

  it('a write that fails fails its own callers only, and the next write works', async () => {
    let down = true;
    const { keep, writes } = store({}, () => (down ? new Error('database unavailable') : undefined));
    const failed = await Promise.all(['a', 'b'].map((event) => outcome(keep({ event }))));
    assert.deepEqual(failed, ['failed: database unavailable', 'failed: database unavailable']);
    down = false;
    assert.deepEqual(await Promise.all(['a', 'c'].map((event) => keep({ event }))), ['a#1', 'c#1']);
    assert.deepEqual(writes, [['a', 'b'], ['a', 'c']]);
  });

  it('with isolate, a letter that cannot be written fails alone: its write is tried again letter by letter', async () => {
    const poison = (items: Letter[]) => (items.some((l) => l.event === 'poison') ? new Error('value out of range') : undefined);
    const { keep, writes } = store({ isolate: (err) => (err as Error).message !== 'database unavailable' }, poison);
    const answers = await Promise.all(['a', 'poison', 'b'].map((event) => outcome(keep({ event }))));
    assert.deepEqual(answers, ['a#1', 'failed: value out of range', 'b#1']);
    assert.deepEqual(writes, [['a', 'poison', 'b'], ['a'], ['poison'], ['b']]);
  });

  it('a write that answers no result for a letter fails that letter, not the others', async () => {
    const keep = groupCommit(async (items: Letter[]) => items.map((l) => (l.event === 'lost' ? undefined : l.event)), { maxItems: 200, maxWrites: 2, keyOf: (l) => l.event });
    const answers = await Promise.all(['a', 'lost'].map((event) => outcome(keep({ event }))));
    assert.deepEqual(answers, ['a', 'failed: the write answered no result for this item']);
  });
});
