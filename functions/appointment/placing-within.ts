// placing() inside a transaction that is already open (a consumer's, whose inbox row must commit with the
// effect): each attempt runs behind a savepoint, so when the database refuses an overlapping holding (a
// concurrent booking took a resource) only that attempt is undone and the work runs again with fresh
// calendars, in the same transaction. Emit events after it returns: an undone attempt cannot un-emit.
import type { Tx } from '../shared/db';
import { placing } from './appointments';

export function placingWithin<R>(tx: Tx, work: () => Promise<R>, attempts = 3): Promise<R> {
  let attempt = 0;
  return placing(async () => {
    const savepoint = `placing_${++attempt}`;
    await tx.$executeRawUnsafe(`SAVEPOINT ${savepoint}`);
    try {
      const result = await work();
      await tx.$executeRawUnsafe(`RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (err) {
      await tx.$executeRawUnsafe(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      throw err;
    }
  }, attempts);
}
