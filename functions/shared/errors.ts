// RFC 9457 problem details: what a caller sees of every error (status, title, the field at fault). Transport
// problems (auth, media type, method, outages) are made here; refusals of the domain are domain-errors.ts.

export interface InvalidParam {
  /** JSON Pointer-ish path of the failing field, e.g. "body/slotId" or "query/from". */
  name: string;
  reason: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  'invalid-params'?: InvalidParam[];
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://docs.medlab.example/problems/';
export const PROBLEM_JSON = 'application/problem+json';

/** The shape every function returns to faas-js-runtime. */
export interface FunctionResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly invalidParams?: InvalidParam[],
    readonly headers: Record<string, string> = {},
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'Problem';
  }

  /** What a function returns for this problem (faas-js-runtime's {statusCode, headers, body}). */
  response(headers: Record<string, string> = {}): FunctionResponse {
    return { statusCode: this.status, headers: { 'content-type': PROBLEM_JSON, ...headers, ...this.headers }, body: this.toJSON() };
  }

  toJSON(): ProblemBody {
    const slug = this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    return {
      type: TYPE_BASE + slug,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(this.invalidParams?.length ? { 'invalid-params': this.invalidParams } : {}),
      ...this.extensions,
    };
  }
}

export const badRequest = (detail: string, field?: string, reason?: string) =>
  new Problem(400, 'Bad Request', detail, field ? [{ name: field, reason: reason ?? detail }] : undefined);
export const invalid = (params: InvalidParam[]) =>
  new Problem(400, 'Invalid Request', params.map((p) => `${p.name}: ${p.reason}`).join('; '), params);
export const unauthorized = (detail = 'a valid bearer token is required') =>
  new Problem(401, 'Unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail);
export const methodNotAllowed = (allowed: string[]) =>
  new Problem(405, 'Method Not Allowed', `use ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') });
export const unsupportedMediaType = (expected: string) =>
  new Problem(415, 'Unsupported Media Type', `send ${expected}`, [{ name: 'header/content-type', reason: `must be ${expected}` }]);
export const unavailable = (detail: string, retryAfterSeconds = 5) =>
  new Problem(503, 'Service Unavailable', detail, undefined, { 'retry-after': String(retryAfterSeconds) });
