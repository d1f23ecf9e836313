// What faas-js-runtime calls around a function's life (every function's index.ts re-exports these):
// init() before the server takes requests, shutdown() when the pod is told to stop.
//
// init() pays up front what the first request would otherwise pay: the database connection, Prisma's query
// compiler, the JSON Schemas the function checks. Knative routes traffic to a pod once it is ready, so a
// cold start costs a little longer to ready and nothing on the first patient's request.
import { db, closeDb } from './db';
import { closeBus } from './bus';
import { settleOutbox } from './publisher';
import { logger } from './log';
import { flushTelemetry } from './telemetry';

const warmers: Array<() => void | Promise<void>> = [];

/** The kit's route(), consume() and scheduled() register what their function will need. */
export function warmBeforeReady(warm: () => void | Promise<void>): void {
  warmers.push(warm);
}

export async function init(): Promise<void> {
  const started = performance.now();
  for (const warm of warmers) await warm();
  // A database that is down now may be up by the first request: readiness does not wait on it.
  // Through an interactive transaction, as every unit of work runs: its machinery warms up too.
  if (process.env.DATABASE_URL) {
    await db().$transaction((tx) => tx.$queryRaw`SELECT 1`).catch((err) => logger.warn({ err: String(err) }, 'database not reachable while warming up'));
  }
  logger.debug({ ms: Math.round(performance.now() - started) }, 'warmed up');
}

/**
 * Before the pod stops: events committed but not yet sent go out (the batch publisher would send them later),
 * and spans still buffered for the collector are exported.
 */
export async function shutdown(): Promise<void> {
  await settleOutbox().catch(() => undefined);
  await Promise.allSettled([closeBus(), closeDb(), flushTelemetry()]);
}
