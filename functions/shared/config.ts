// What a function needs before it may start in a cluster. With NODE_ENV=production a missing DATABASE_URL or
// KAFKA_BROKERS (or token settings, for routes) stops the function at start-up naming the variable, instead of
// running on laptop machinery and losing events it would mark published.
import { assertAuthConfig } from './auth';

const REQUIRED = ['DATABASE_URL', 'KAFKA_BROKERS'] as const;

/** faas-js-runtime's CLI prints a module's load error and then ends with exit code 0; a refusal must not look like success. */
export function refuse(check: () => void): void {
  try {
    check();
  } catch (err) {
    process.exitCode = 1;
    throw err;
  }
}

export function assertProductionConfig(): void {
  if (process.env.NODE_ENV !== 'production') return;
  refuse(() => {
    const missing = REQUIRED.filter((name) => !process.env[name]?.trim());
    if (missing.length) {
      throw new Error(`${missing.join(' and ')} must be set in production (NODE_ENV=production); refusing to start without ${missing.length > 1 ? 'them' : 'it'}`);
    }
  });
}

/** Routes also verify tokens: the OpenID Connect settings must be there too. */
export function assertRouteConfig(): void {
  assertProductionConfig();
  if (process.env.NODE_ENV === 'production') refuse(assertAuthConfig);
}
