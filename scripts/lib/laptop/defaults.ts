// Laptop defaults for npm start, npm run function and the tests: the embedded PGlite database while
// DATABASE_URL is unset, the in-process bus while KAFKA_BROKERS is unset. Only laptop entry points import
// this file, so none of it reaches a function's production import graph or image.
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { useLaptopDatabase } from '../../../functions/shared/db';
import { useLaptopBus } from '../../../functions/shared/bus';
import { embeddedDatabase } from './embedded-db';
import { memoryBus } from './memory-bus';

export function useLaptopDefaults(): void {
  useLaptopDatabase(() => new PrismaPGlite(embeddedDatabase()));
  useLaptopBus(memoryBus);
}
