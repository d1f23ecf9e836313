import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { README, renderedReadme } from './docs';

describe('README', () => {
  it('its function inventory and event catalogue match knative/ and the catalogue (run npm run docs)', () => {
    assert.equal(readFileSync(README, 'utf8'), renderedReadme(), 'README.md is stale: run `npm run docs`');
  });
});
