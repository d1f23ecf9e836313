// Links into the portal that expire: {portalUrl}/results?accession=…&n=<notificationId>&exp=<unix seconds>&sig=…
// sig is HMAC-SHA256 (NOTIFICATION_LINK_SECRET) over accession, notification and expiry, base64url. The portal
// (or whatever answers the link) verifies it with verifyLink(): a forged or edited link and an expired one
// are refused. The link names an accession id, never a test, a value or a diagnosis. Production refuses to
// start without the secret; a laptop uses a fixed one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { refuse } from '../shared/config';

const LAPTOP_SECRET = 'laptop-only-notification-link-secret';

export function linkSecret(): string {
  const secret = process.env.NOTIFICATION_LINK_SECRET?.trim();
  if (secret) {
    if (secret.length < 32) throw new Error('NOTIFICATION_LINK_SECRET must be at least 32 characters');
    return secret;
  }
  if (process.env.NODE_ENV === 'production') throw new Error('NOTIFICATION_LINK_SECRET must be set in production (NODE_ENV=production); refusing to start without it');
  return LAPTOP_SECRET;
}

/** At start-up, in functions that sign links. */
export function assertLinkSecret(): void {
  refuse(() => { linkSecret(); });
}

const signature = (secret: string, accession: string, notificationId: string, exp: number) =>
  createHmac('sha256', secret).update(`results\n${accession}\n${notificationId}\n${exp}`).digest('base64url');

export interface ResultsLink { accession: string; notificationId: string; expiresAt: Date }

/** The signed link to a visit's results, valid until expiresAt (whole seconds). */
export function resultsLink(portalUrl: string, link: ResultsLink, secret = linkSecret()): string {
  const exp = Math.floor(link.expiresAt.getTime() / 1000);
  const query = new URLSearchParams({ accession: link.accession, n: link.notificationId, exp: String(exp), sig: signature(secret, link.accession, link.notificationId, exp) });
  return `${portalUrl.replace(/\/+$/, '')}/results?${query}`;
}

export type LinkCheck = { ok: true; accession: string; notificationId: string; expiresAt: Date } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Checks a results link (the whole URL or its query): the signature first, then the expiry at `now`. */
export function verifyLink(link: string | URLSearchParams, now = new Date(), secret = linkSecret()): LinkCheck {
  let query: URLSearchParams;
  try {
    query = typeof link === 'string' ? new URL(link, 'http://link.invalid').searchParams : link;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const accession = query.get('accession');
  const notificationId = query.get('n');
  const expText = query.get('exp');
  const sig = query.get('sig');
  if (!accession || !notificationId || !expText || !sig || !/^\d{1,12}$/.test(expText)) return { ok: false, reason: 'malformed' };
  const exp = Number(expText);
  const expected = Buffer.from(signature(secret, accession, notificationId, exp));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  if (now.getTime() >= exp * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, accession, notificationId, expiresAt: new Date(exp * 1000) };
}
