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

/**
 * A setting that is a whole number of `unit` (minutes, days …), at least 1, from the environment: unset or
 * blank is the fallback; anything else stops the caller with a message naming the variable.
 */
export function wholeSetting(name: string, fallback: number, unit: string): number {
  const raw = process.env[name];
  const n = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of ${unit} (at least 1), not "${raw}"`);
  return n;
}
