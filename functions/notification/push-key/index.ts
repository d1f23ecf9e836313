// The portal asks for the VAPID public key before the browser subscribes to Web Push (RFC 8292): the push
// service then accepts only messages signed with its private key. Public, and served without the database.
// VAPID_PUBLIC_KEY in production (a missing or malformed key stops the function at start-up); elsewhere the
// laptop's fixed pair, the one the laptop's sender signs with (channels/settings.ts).
import { route, ok } from '../../shared/http';
import { refuse } from '../../shared/config';
import { system } from '../system';
import { LAPTOP_VAPID } from '../channels/settings';
import { view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const DEV_VAPID_PUBLIC_KEY = LAPTOP_VAPID.publicKey;

/** An uncompressed P-256 public key: 65 bytes beginning 0x04, base64url without padding. */
export function isVapidPublicKey(key: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return false;
  const bytes = Buffer.from(key, 'base64url');
  return bytes.length === 65 && bytes[0] === 0x04;
}

export function vapidPublicKey(): string {
  const key = process.env.VAPID_PUBLIC_KEY?.trim();
  if (!key) {
    if (process.env.NODE_ENV === 'production') throw new Error('VAPID_PUBLIC_KEY must be set in production (NODE_ENV=production)');
    return DEV_VAPID_PUBLIC_KEY;
  }
  if (!isVapidPublicKey(key)) throw new Error('VAPID_PUBLIC_KEY is not an uncompressed P-256 public key in base64url (65 bytes, 0x04 first)');
  return key;
}

refuse(vapidPublicKey);

export const handle = route(
  {
    name: 'notification-push-key', system, method: 'GET', path: '/api/notifications/push-key',
    summary: 'The VAPID public key browsers subscribe to Web Push with', auth: 'public', database: false,
    responses: { 200: { description: 'the key', schema: view } },
  },
  async () => ok({ publicKey: vapidPublicKey() }, { 'cache-control': 'public, max-age=3600' }),
);
