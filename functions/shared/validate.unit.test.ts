// Functions compile their JSON Schemas without checking them against the meta-schema (validate.ts: it would
// cost every cold start); this checks every schema the functions and events use, once, here.
import { strict as assert } from 'node:assert';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { loadManifests } from '../../scripts/lib/manifests';
import { loadFunctionModule, kindOf } from '../../scripts/lib/runtime/host';
import { systems } from './systems';
import type { JsonSchema } from './validate';

describe('every JSON Schema the functions use', () => {
  const schemas: Array<[string, JsonSchema]> = [];
  for (const system of systems()) for (const [type, contract] of Object.entries(system.events)) schemas.push([`${system.name} event ${type}`, contract.schema as JsonSchema]);
  for (const service of loadManifests().services) {
    const { kind, spec } = kindOf(loadFunctionModule(service.functionDir));
    if (kind !== 'route') continue;
    if (spec.body) schemas.push([`${service.name} body`, spec.body]);
    if (spec.query) schemas.push([`${service.name} query`, spec.query]);
    for (const [status, r] of Object.entries(spec.responses as Record<string, { schema?: JsonSchema }>)) if (r.schema) schemas.push([`${service.name} ${status} answer`, r.schema]);
  }

  it('finds the route and event schemas', () => {
    assert.ok(schemas.length > 30, `only ${schemas.length} schemas found`);
  });

  it('each is a valid JSON Schema (meta-schema) that compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true, validateSchema: true });
    addFormats(ajv);
    for (const [name, schema] of schemas) {
      assert.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`);
      assert.doesNotThrow(() => ajv.compile(schema), `${name} does not compile`);
    }
  });
});
