// Web Push (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID) to every live subscription of the
// patient. The payload is {title, body, link, notificationId}: the neutral words of the template, never
// health data. A push service that says the subscription is gone (404/410) has it marked gone, never used
// again; delivered when any browser's push service took it (201), failed 'no-subscription' when none is left.
// A send carries its identity twice, so the same send again (after a sender died before recording it) is one
// notice to the patient: the Topic (the send key), with which the push service replaces a message it still
// holds for an offline browser (RFC 8030 §5.4), and the notificationId, the portal's service worker's
// notification tag, with which the browser replaces the notification on screen.
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import webpush, { WebPushError } from 'web-push';
import { ChannelUnavailable, type Channel, type Send, type SendResult } from './channel';

export interface VapidSettings { publicKey: string; privateKey: string; subject: string; extraCa?: string }

export type PushTarget = { endpoint: string; p256dh: string; auth: string; id: string };

/** 24 h: a phone that is off overnight still gets a notice in the morning; older than that it is stale. */
const TTL_SECONDS = 24 * 3600;
const TIMEOUT_MS = 10_000;

export function pushPayload(request: Send): string {
  return JSON.stringify({ title: request.message.title, body: request.message.body, link: request.message.link ?? null, notificationId: request.notificationId });
}

export function pushChannel(settings: VapidSettings, markGone: (subscriptionIds: string[]) => Promise<void>): Channel {
  const { extraCa, ...vapid } = settings;
  const agent = extraCa ? new https.Agent({ ca: [...rootCertificates, extraCa], keepAlive: true }) : undefined;
  return {
    name: 'push',
    async send(request: Send): Promise<SendResult> {
      const targets = Array.isArray(request.to) ? (request.to as PushTarget[]) : [];
      if (!targets.length) return { status: 'failed', provider: 'webpush', errorCode: 'no-subscription' };
      const payload = pushPayload(request);
      const outcomes = await Promise.all(targets.map(async (t) => {
        try {
          const res = await webpush.sendNotification({ endpoint: t.endpoint, keys: { p256dh: t.p256dh, auth: t.auth } }, payload, {
            vapidDetails: vapid, TTL: TTL_SECONDS, timeout: TIMEOUT_MS, urgency: 'normal', ...(agent ? { agent } : {}),
            // At most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4): the send key's hex digits.
            topic: request.idempotencyKey.replace(/[^A-Za-z0-9]/g, '').slice(0, 32),
          });
          return { id: t.id, status: res.statusCode, location: res.headers?.location as string | undefined };
        } catch (err) {
          return { id: t.id, status: err instanceof WebPushError ? err.statusCode : 0, retryAfter: err instanceof WebPushError ? Number(err.headers?.['retry-after']) || undefined : undefined };
        }
      }));
      const gone = outcomes.filter((o) => o.status === 404 || o.status === 410).map((o) => o.id);
      if (gone.length) await markGone(gone);
      const taken = outcomes.find((o) => o.status >= 200 && o.status < 300);
      if (taken) return { status: 'delivered', provider: 'webpush', ...(('location' in taken && taken.location) ? { providerMessageId: String(taken.location).slice(-200) } : {}) };
      const passing = outcomes.filter((o) => o.status === 0 || o.status === 429 || o.status >= 500);
      if (passing.length) throw new ChannelUnavailable('push', `the push service answered ${passing.map((o) => o.status || 'no answer').join(', ')}`, Math.max(0, ...passing.map((o) => ('retryAfter' in o && o.retryAfter) || 0)) || undefined);
      if (gone.length === outcomes.length) return { status: 'failed', provider: 'webpush', errorCode: 'no-subscription' };
      return { status: 'failed', provider: 'webpush', errorCode: `push-${outcomes.find((o) => !gone.includes(o.id))!.status}` };
    },
  };
}
