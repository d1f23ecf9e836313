// OpenAPI 3.1 document of the portal API, built from what runs: each HTTPRoute rule gives the public path,
// the route function behind it gives method, summary, auth and the JSON Schemas it validates with.
import type { HostedFunction } from './host';
import { mediaTypeOf, statusesOf } from '../../../functions/shared/http';
import type { RouteRule } from '../manifests';

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    'invalid-params': { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string' } } } },
  },
};

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

export function openApiDocument(routes: RouteRule[], functions: HostedFunction[], serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const rule of routes) {
    const fn = functions.find((f) => f.name === rule.service);
    const spec = fn?.route;
    if (!spec) continue;
    const method = (rule.method ?? spec.method).toLowerCase();
    const query = spec.query as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    const parameters = [
      ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema })),
      ...(spec.idempotent ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'Retries with the same key have one effect; the first answer is replayed (idempotent-replayed: true)', schema: { type: 'string', minLength: 1, maxLength: 200 } }] : []),
    ];
    // Every status the route can answer: its views with their schemas, every refusal as problem+json.
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(statusesOf(spec))) {
      const view = spec.responses[Number(status)];
      responses[status] = view
        ? { description, ...(view.schema ? { content: { 'application/json': { schema: view.schema } } } : {}) }
        : problemResponse(description);
    }
    paths[rule.path] ??= {};
    paths[rule.path][method] = {
      operationId: spec.name,
      summary: spec.summary,
      tags: [spec.system.name],
      'x-function': spec.name,
      // A provider's webhook (a route with verify) is public to tokens but proven by the provider's signature.
      ...(spec.auth === 'public' ? { security: spec.verify ? [{ providerSignature: [] }] : [] } : { security: [{ bearer: [] }], description: `Roles: ${spec.auth.join(', ')}` }),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { [mediaTypeOf(spec)]: { schema: spec.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Patient portal API', version: '1.0.0', description: 'Route functions of the patient-portal bundle. Errors are RFC 9457 problem+json.' },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        providerSignature: { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature', description: 'The SMS provider signs its status callbacks (HMAC-SHA1 of the URL and the sorted form fields, keyed by its auth token)' },
      },
      schemas: { Problem: problemSchema },
    },
  };
}
