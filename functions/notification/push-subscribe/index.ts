// The portal registers the browser's Web Push subscription for the signed-in patient. Registering the same
// endpoint again (every page load may) changes nothing but its keys: 200, not a second subscription. An
// endpoint the push service had given up on is live again; one a previous patient of a shared browser
// registered now belongs to this one (the browser notifies whoever is signed in). The sender will call the
// endpoint, so it must be a push service: https and a public host name.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { route, ok, created } from '../../shared/http';
import { invalid } from '../../shared/errors';
import { tableOf } from '../../shared/db';
import { system } from '../system';
import { body, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

const subscriptions = tableOf(system, 'push_subscription');
const INTERNAL_HOST = /(^localhost$)|(\.(localhost|local|internal|lan|home|svc|cluster\.local)$)|^[^.]+$/i;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why the endpoint cannot be a push service's, or undefined. Outside production the laptop's catcher (http on this machine) is one. */
export function endpointProblem(endpoint: string): string | undefined {
  const url = new URL(endpoint);
  if (process.env.NODE_ENV !== 'production' && url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  if (url.protocol !== 'https:') return 'must be an https URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || INTERNAL_HOST.test(host)) return 'must name a push service by its public host name';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

function keyProblem(key: string, bytes: number, first?: number): boolean {
  const raw = Buffer.from(key.replace(/=+$/, ''), 'base64url');
  return raw.length !== bytes || (first !== undefined && raw[0] !== first);
}

export const handle = route(
  {
    name: 'notification-push-subscribe', system, method: 'POST', path: '/api/notifications/push-subscriptions',
    summary: 'Register the browser\'s Web Push subscription for the patient', auth: ['patient'], body,
    responses: { 201: { description: 'the new subscription', schema: view }, 200: { description: 'the endpoint was already registered: its keys renewed', schema: view } },
  },
  async ({ body, caller, db }) => {
    const problems = [
      ...[endpointProblem(body.endpoint)].filter(Boolean).map((reason) => ({ name: 'body/endpoint', reason: reason! })),
      ...(keyProblem(body.keys.p256dh, 65, 0x04) ? [{ name: 'body/keys.p256dh', reason: 'must be an uncompressed P-256 public key (65 bytes), base64url' }] : []),
      ...(keyProblem(body.keys.auth, 16) ? [{ name: 'body/keys.auth', reason: 'must be a 16-byte secret, base64url' }] : []),
    ];
    if (problems.length) throw invalid(problems);
    // One statement whatever races: a second registration of the endpoint meanwhile updates instead.
    const [row] = await db.$queryRaw<Array<{ id: string; endpoint: string; createdAt: Date; inserted: boolean }>>`
      INSERT INTO ${subscriptions} (id, patient_id, endpoint, p256dh, auth)
      VALUES (${randomUUID()}::uuid, ${caller.patientId}, ${body.endpoint}, ${body.keys.p256dh}, ${body.keys.auth})
      ON CONFLICT (endpoint) DO UPDATE SET patient_id = EXCLUDED.patient_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, gone_at = NULL
      RETURNING id::text AS id, endpoint, created_at AS "createdAt", (xmax = 0) AS inserted`;
    const answer = { subscriptionId: row.id, endpoint: row.endpoint, createdAt: row.createdAt.toISOString() };
    return row.inserted ? created(answer) : ok(answer);
  },
);
