// The dead-letter console: the operators' page for groups and letters, one letter's detail, retry, redrive,
// park and discard, and a chart of letters over time. The page is a public shell with no data in it: all it
// shows comes from the dead-letter API with the operator's own token. Its script and style are served here
// too (?asset=), so the Content-Security-Policy allows no inline script or style at all.
import { route } from '../../shared/http';
import { system } from '../system';
import { query } from './schema';
import { page } from './page';
import { script } from './app';
import { icon, style } from './style';
export { init, shutdown } from '../../shared/lifecycle';

/** Only this origin's own files, and the API on the same origin; no framing, no plugins, no inline code. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const files = {
  page: { type: 'text/html; charset=utf-8', body: page },
  'app.js': { type: 'text/javascript; charset=utf-8', body: script },
  'app.css': { type: 'text/css; charset=utf-8', body: style },
  'icon.svg': { type: 'image/svg+xml', body: icon },
};

export const handle = route(
  {
    name: 'dead-letter-console', system, method: 'GET', path: '/dead-letters',
    summary: 'The dead-letter console: a web page for operators (its script, style and icon with ?asset=)', auth: 'public', query,
    database: false,
    responses: { 200: { description: 'the page (text/html), or its script (text/javascript), style sheet (text/css) or icon (image/svg+xml)' } },
  },
  async ({ query }) => {
    const file = files[query.asset ?? 'page'];
    return {
      status: 200,
      body: file.body,
      headers: {
        'content-type': file.type,
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        // Small files, revalidated each time: a new deployment's page never runs an old script.
        'cache-control': 'no-cache',
      },
    };
  },
);
