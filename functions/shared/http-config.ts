// Portal origins allowed by CORS: PORTAL_ORIGINS, comma separated. Laptop default: the local runtime.
export function allowedOrigins(): string[] {
  const list = process.env.PORTAL_ORIGINS ?? (process.env.NODE_ENV === 'production' ? '' : 'http://localhost:8080,http://localhost:3000');
  return list.split(',').map((o) => o.trim()).filter(Boolean);
}

/** Largest request body a route accepts (bytes). faas-js-runtime enforces FUNC_BODY_LIMIT as well. */
export const MAX_BODY_BYTES = 64 * 1024;
