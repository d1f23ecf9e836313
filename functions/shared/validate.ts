// JSON Schema validation (ajv). Schemas are the contract: routes and events are checked against them and
// every failure names the field at fault.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { invalid, type InvalidParam } from './errors';

export type JsonSchema = Record<string, unknown>;

// The schemas are the project's own constants, checked against the JSON Schema meta-schema by a unit test
// (validate.unit.test.ts): a function does not compile the meta-schema again at every cold start.
const OPTIONS = { allErrors: true, strict: true, useDefaults: true, validateSchema: false } as const;
const ajv = new Ajv({ ...OPTIONS, coerceTypes: false });
addFormats(ajv);
// Query strings arrive as text; a separate instance coerces "10" → 10 for query schemas only.
const queryAjv = new Ajv({ ...OPTIONS, coerceTypes: true });
addFormats(queryAjv);

const cache = new WeakMap<JsonSchema, ValidateFunction>();
const queryCache = new WeakMap<JsonSchema, ValidateFunction>();

function compiled(schema: JsonSchema, forQuery: boolean): ValidateFunction {
  const store = forQuery ? queryCache : cache;
  let fn = store.get(schema);
  if (!fn) {
    fn = (forQuery ? queryAjv : ajv).compile(schema);
    store.set(schema, fn);
  }
  return fn;
}

export function toInvalidParams(errors: ErrorObject[] | null | undefined, where: string): InvalidParam[] {
  return (errors ?? []).map((e) => {
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required') field = [field, e.params.missingProperty].filter(Boolean).join('.');
    if (e.keyword === 'additionalProperties') field = [field, e.params.additionalProperty].filter(Boolean).join('.');
    const reason = e.keyword === 'additionalProperties' ? 'is not allowed' : e.keyword === 'required' ? 'is required' : e.message ?? 'is invalid';
    return { name: field ? `${where}/${field}` : where, reason };
  });
}

/** Checks value against schema; throws a 400 problem naming every failing field. */
export function check<T>(schema: JsonSchema, value: unknown, where: 'body' | 'query' | 'data'): T {
  const fn = compiled(schema, where === 'query');
  if (!fn(value)) throw invalid(toInvalidParams(fn.errors, where));
  // Query text like "1e400" or "Infinity" coerces to Infinity, which ajv's minimum/maximum let through.
  const infinite = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'number' && !Number.isFinite(v));
  if (infinite.length) throw invalid(infinite.map(([k]) => ({ name: `${where}/${k}`, reason: 'must be a finite number' })));
  return value as T;
}

/** Same check, returning the failures instead of throwing (for events bound for the dead-letter sink). */
/** Compiles a schema now rather than at its first use (see lifecycle.ts). */
export function precompile(schema: JsonSchema, forQuery = false): void {
  compiled(schema, forQuery);
}

export function problemsOf(schema: JsonSchema, value: unknown, where: string): InvalidParam[] {
  const fn = compiled(schema, false);
  return fn(value) ? [] : toInvalidParams(fn.errors, where);
}
