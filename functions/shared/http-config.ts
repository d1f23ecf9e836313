// Portal origins allowed by CORS: PORTAL_ORIGINS, comma separated. Laptop default: the local runtime on its
// PORT (npm start) and a portal dev server on :3000; none in production.
export function allowedOrigins(): readonly string[] {
  const local = `http://localhost:${process.env.PORT || 8080},http://localhost:3000`;
  const list = process.env.PORTAL_ORIGINS ?? (process.env.NODE_ENV === 'production' ? '' : local);
  // Asked on every request and every answer: split once per value of the setting.
  if (list !== origins.list) Object.assign(origins, { list, parsed: list.split(',').map((o) => o.trim()).filter(Boolean) });
  return origins.parsed;
}
const origins: { list?: string; parsed: string[] } = { parsed: [] };

/** Largest request body a route accepts (bytes), counted on the wire (runtime-hooks.ts); other functions take the runtime's 1 MiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Deepest nesting a JSON body may have (objects and arrays), for every function and the gateway. The API's
 * own bodies nest three levels at most; 64 leaves room for any event data while no recursive code (JSON
 * stringify, validators, the CloudEvents SDK) can be driven into a stack overflow.
 */
export const MAX_JSON_DEPTH = 64;
