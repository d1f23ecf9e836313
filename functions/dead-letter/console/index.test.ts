// The console's files as the function serves them. What the page does in a browser, against the real API,
// is test/console.browser.test.ts.
import { strict as assert } from 'node:assert';
import { Script } from 'node:vm';
import * as fn from './index';
import { startFunction, call, type RunningFunction } from '../../../test/support/fixtures';

describe('dead-letter-console (GET /dead-letters)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());

  it('serves the page as HTML under a Content-Security-Policy that allows no inline script or style', async () => {
    const res = await call(running.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = res.body as string;
    assert.match(html, /^<!doctype html>/);
    // Nothing the policy would block: every script has a src and no body, and no inline style anywhere.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, /src="\?asset=app\.js"/);
      assert.equal(body.trim(), '');
    }
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves its script, style sheet and icon as files of their own, the script valid JavaScript', async () => {
    const js = await call(running.url, { query: { asset: 'app.js' } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.doesNotThrow(() => new Script(js.body as string, { filename: 'app.js' }));
    const css = await call(running.url, { query: { asset: 'app.css' } });
    assert.equal(css.status, 200);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.match(css.body as string, /\.problem\s*\{/);
    const icon = await call(running.url, { query: { asset: 'icon.svg' } });
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.match(icon.body as string, /^<svg /);
  });

  it('every element the script looks up by id is on the page', async () => {
    const html = (await call(running.url)).body as string;
    const js = (await call(running.url, { query: { asset: 'app.js' } })).body as string;
    const wanted = new Set([...js.matchAll(/\$\('([a-z0-9-]+)'\)/g)].map((m) => m[1]));
    assert.ok(wanted.size > 30, `the script looks up ${wanted.size} elements`);
    const missing = [...wanted].filter((id) => !html.includes(`id="${id}"`));
    assert.deepEqual(missing, []);
  });

  it('names the asset it does not have in a problem+json 400', async () => {
    const res = await call(running.url, { query: { asset: 'secrets.json' } });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'query/asset');
  });
});
