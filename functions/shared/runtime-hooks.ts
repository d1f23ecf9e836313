// faas-js-runtime owns the HTTP server, and its defaults answer errors it raises itself (malformed JSON,
// oversize bodies, unknown paths, CORS preflight) with plain JSON and "*". Fastify announces every new
// instance on the diagnostics channel "fastify.initialization"; the kit subscribes once and makes those
// answers problem+json and preflights honour the portal origins, without forking the runtime.
import { subscribe } from 'node:diagnostics_channel';
import { Problem, PROBLEM_JSON as PROBLEM } from './errors';
import { allowedOrigins } from './http-config';


function fromFastifyError(err: { statusCode?: number; code?: string; message?: string }): Problem {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(400, 'Malformed JSON', err.message, [{ name: 'body', reason: 'is not valid JSON' }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem(413, 'Content Too Large', 'the request body is larger than this function accepts', [{ name: 'body', reason: 'too large' }]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, 'Unsupported Media Type', err.message, [{ name: 'header/content-type', reason: 'unsupported' }]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem(400, 'Bad Request', 'Content-Length does not match the body', [{ name: 'header/content-length', reason: 'mismatch' }]);
  }
  if (status === 400 && (err as Error).name === 'SyntaxError' || /JSON/.test(err.message ?? '') && status === 400) {
    return new Problem(400, 'Malformed JSON', err.message, [{ name: 'body', reason: 'is not valid JSON' }]);
  }
  if (status < 500) {
    // CloudEvents SDK validation (missing ce-id, ce-source, …) and other client-side faults.
    const field = /ce-?(\w+)|\b(id|source|type|specversion)\b/i.exec(err.message ?? '');
    return new Problem(status, status === 406 ? 'Not Acceptable' : 'Bad Request', err.message, field ? [{ name: `cloudevent/${(field[1] ?? field[2]).toLowerCase()}`, reason: err.message ?? 'invalid' }] : undefined);
  }
  if (/invalid|required|must|CloudEvent/i.test(err.message ?? '')) {
    // The CloudEvents SDK throws plain errors (no status) for a malformed event: that is the sender's fault.
    return new Problem(400, 'Invalid CloudEvent', err.message, [{ name: 'cloudevent', reason: err.message ?? 'invalid' }]);
  }
  return new Problem(500, 'Internal Server Error', 'the function failed; the error is logged');
}

let installed = false;

export function installRuntimeHooks(): void {
  if (installed) return;
  installed = true;
  subscribe('fastify.initialization', (message: unknown) => {
    const fastify = (message as { fastify: any }).fastify;
    fastify.setErrorHandler((err: any, request: any, reply: any) => {
      const problem = fromFastifyError(err);
      if (problem.status >= 500) request.log.error({ err }, 'request failed');
      reply.code(problem.status).headers({ 'content-type': PROBLEM, ...problem.headers }).send(JSON.stringify(problem.toJSON()));
    });
    fastify.setNotFoundHandler((request: any, reply: any) => {
      reply.code(404).header('content-type', PROBLEM).send(JSON.stringify(
        new Problem(404, 'Not Found', `a function answers at / only; ${request.method} ${request.url} is not served here`).toJSON(),
      ));
    });
    // Preflight: the runtime answers every OPTIONS with "*"; answer only configured portal origins.
    fastify.addHook('onRequest', (request: any, reply: any, done: () => void) => {
      // The runtime's metrics stop an execution timer that only starts once a body parsed; a rejected body
      // would otherwise log a TypeError after its (correct) 4xx answer.
      request.execTimer ??= () => undefined;
      if (request.method !== 'OPTIONS') return done();
      const origin = request.headers.origin as string | undefined;
      const allowed = origin && allowedOrigins().includes(origin);
      reply.code(allowed ? 204 : 403).headers({
        vary: 'Origin',
        ...(allowed ? {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, idempotency-key',
          'access-control-max-age': '600',
        } : { 'content-type': PROBLEM }),
      }).send(allowed ? undefined : JSON.stringify(new Problem(403, 'Forbidden', `origin ${origin ?? '(none)'} is not a portal origin`).toJSON()));
    });
  });
}
