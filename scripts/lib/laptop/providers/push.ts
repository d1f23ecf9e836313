// A Web Push service (RFC 8030) as browsers' push services are: HTTPS (a certificate made for this run: the
// sender trusts it through WEB_PUSH_EXTRA_CA), a subscription's endpoint per browser, every message checked
// for its VAPID JWT (RFC 8292: ES256, aud the endpoint's origin, exp within 24 h, a sub to contact) and
// decrypted with the subscription's private key (RFC 8291 aes128gcm) before it is kept. 201 when taken;
// 410 for a subscription marked gone; the next answers can be made 500 or 429. The tests' push service and
// the laptop catcher's (POST /subscriptions makes a subscription a portal can register).
// Behind it, each subscription's browser as the patient has it: while offline, the service holds its messages
// and one with the Topic of a message still held replaces it (RFC 8030 §5.4); online, the service worker
// shows each message as a notification tagged with its notificationId, and a notification with the tag of
// one still shown replaces it (Notifications API `tag`): `shown` is what the patient sees.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createECDH, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { importJWK, jwtVerify } from 'jose';
import { decrypt } from 'http_ece';

export interface CaughtPush { at: string; subscriptionId: string; payload: any; ttl: number; urgency?: string; topic?: string; vapidSubject: string }

/** A notification on a browser's screen: the service worker's showNotification(title, { body, tag: notificationId }). */
export interface ShownNotification { subscriptionId: string; tag: string; title: string; at: string; replaced: number }

export interface StandInSubscription { id: string; endpoint: string; p256dh: string; auth: string }

export interface PushStandIn {
  url: string;
  port: number;
  /** The PEM of this run's certificate: what a sender must trust (WEB_PUSH_EXTRA_CA). */
  ca: string;
  /** Every message the service accepted (201), in order: what was sent. */
  received: CaughtPush[];
  /** The notifications on the patients' screens, one per subscription and tag: what the patients see. */
  shown: ShownNotification[];
  /** Refused messages, with why (a bad VAPID JWT, an undecryptable body). */
  refused: Array<{ subscriptionId: string; status: number; reason: string }>;
  /** A browser's subscription: a real P-256 key pair and auth secret, kept here to decrypt with. */
  subscribe(): StandInSubscription;
  /** The push service forgets the subscription: it answers 410 Gone from now on. */
  expire(subscriptionId: string): void;
  failNext(status: number, count?: number): void;
  /** The browser goes offline (the service holds its messages, a Topic replacing a held one) or online (the held ones arrive). */
  setOnline(subscriptionId: string, online: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** A self-signed certificate for 127.0.0.1 and localhost, made for this run (openssl, as on any laptop). */
function certificate(): { key: string; cert: string } {
  const out = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=medlab laptop push service', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', '-', '-out', '-'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(out)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
  if (!key || !cert) throw new Error('openssl did not make a certificate for the push stand-in');
  return { key: `${key}\n`, cert: `${cert}\n` };
}

async function checkVapid(req: IncomingMessage, origin: string): Promise<string> {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ''));
  if (!m) throw new Error('no VAPID authorization (vapid t=…, k=…)');
  const raw = Buffer.from(m[2], 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 public key');
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33)) }, 'ES256');
  const { payload } = await jwtVerify(m[1], key, { algorithms: ['ES256'], audience: origin });
  if (!payload.exp || payload.exp > Date.now() / 1000 + 24 * 3600) throw new Error('exp is missing or more than 24 h ahead');
  if (typeof payload.sub !== 'string' || !/^(mailto:|https:)/.test(payload.sub)) throw new Error('sub must be a mailto: or https: contact');
  return payload.sub;
}

export async function startPushStandIn(options: { port?: number; host?: string } = {}): Promise<PushStandIn> {
  const host = options.host ?? '127.0.0.1';
  const { key, cert } = certificate();
  const subscriptions = new Map<string, { ecdh: ECDH; auth: Buffer; gone: boolean; online: boolean; held: CaughtPush[] }>();
  const received: CaughtPush[] = [];
  const shown: ShownNotification[] = [];
  const show = (m: CaughtPush) => {
    const tag = typeof m.payload?.notificationId === 'string' ? m.payload.notificationId : `untagged-${randomUUID()}`;
    const same = shown.find((n) => n.subscriptionId === m.subscriptionId && n.tag === tag);
    if (same) Object.assign(same, { title: String(m.payload?.title ?? ''), at: m.at, replaced: same.replaced + 1 });
    else shown.push({ subscriptionId: m.subscriptionId, tag, title: String(m.payload?.title ?? ''), at: m.at, replaced: 0 });
  };
  const refused: PushStandIn['refused'] = [];
  const failing: number[] = [];
  let url = '';

  const subscribe = (): StandInSubscription => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const id = randomUUID();
    subscriptions.set(id, { ecdh, auth, gone: false, online: true, held: [] });
    return { id, endpoint: `${url}/push/${id}`, p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) };
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const end = (status: number, extra: Record<string, string> = {}) => void res.writeHead(status, extra).end();
    if (req.method === 'POST' && req.url === '/subscriptions') {
      return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(subscribe()));
    }
    const m = /^\/push\/([0-9a-f-]{36})$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return end(404);
    const sub = subscriptions.get(m[1]);
    if (!sub) return end(404);
    if (sub.gone) return end(410);
    const failure = failing.shift();
    if (failure) return end(failure, failure === 429 ? { 'retry-after': '30' } : {});
    let vapidSubject: string;
    try {
      vapidSubject = await checkVapid(req, new URL(url).origin);
    } catch (err) {
      refused.push({ subscriptionId: m[1], status: 403, reason: `VAPID: ${(err as Error).message}` });
      return end(403);
    }
    const ttl = Number(req.headers.ttl);
    if (!Number.isInteger(ttl) || ttl < 0) { refused.push({ subscriptionId: m[1], status: 400, reason: 'TTL header missing' }); return end(400); }
    if (req.headers['content-encoding'] !== 'aes128gcm') { refused.push({ subscriptionId: m[1], status: 415, reason: 'Content-Encoding must be aes128gcm' }); return end(415); }
    let payload: unknown;
    try {
      payload = JSON.parse(decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth }).toString('utf8'));
    } catch (err) {
      refused.push({ subscriptionId: m[1], status: 400, reason: `cannot decrypt: ${(err as Error).message}` });
      return end(400);
    }
    const topic = req.headers.topic ? String(req.headers.topic) : undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) { refused.push({ subscriptionId: m[1], status: 400, reason: 'Topic must be 1–32 characters of the URL-safe base64 alphabet' }); return end(400); }
    const message: CaughtPush = {
      at: new Date().toISOString(), subscriptionId: m[1], payload, ttl, vapidSubject,
      ...(req.headers.urgency ? { urgency: String(req.headers.urgency) } : {}), ...(topic ? { topic } : {}),
    };
    received.push(message);
    if (sub.online) show(message);
    else {
      const replacing = topic ? sub.held.findIndex((h) => h.topic === topic) : -1;
      if (replacing >= 0) sub.held[replacing] = message;
      else sub.held.push(message);
    }
    end(201, { location: `${url}/messages/${randomUUID()}` });
  }

  const server = https.createServer({ key, cert }, (req, res) => void serve(req, res).catch(() => { if (!res.headersSent) res.writeHead(500).end(); }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  url = `https://${host}:${port}`;
  return {
    url, port, ca: cert, received, shown, refused, subscribe,
    expire: (id) => { const s = subscriptions.get(id); if (s) s.gone = true; },
    failNext: (status, count = 1) => { for (let i = 0; i < count; i++) failing.push(status); },
    setOnline: (id, online) => {
      const s = subscriptions.get(id);
      if (!s) return;
      s.online = online;
      if (online) for (const m of s.held.splice(0)) show(m);
    },
    reset: () => { received.length = 0; shown.length = 0; refused.length = 0; failing.length = 0; for (const s of subscriptions.values()) { s.online = true; s.held.length = 0; } },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
