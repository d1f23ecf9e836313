// The laptop catcher (npm start): the three provider stand-ins on the ports the channels default to outside
// production, so every email, SMS and push the bundle sends is caught here instead of reaching anyone, and a
// page (GET /notifications/caught on the gateway, from this machine only) that lists per patient what they
// would have received, with each delivery's status. A provider setting in the environment (SMTP_URL,
// SMS_API_URL) means a real provider: that stand-in is not started.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { db } from '../../../../functions/shared/db';
import { logger } from '../../../../functions/shared/log';
import { LAPTOP_PROVIDERS } from '../../../../functions/notification/channels/settings';
import { startSmtpStandIn, type SmtpStandIn } from './smtp';
import { startSmsStandIn, type SmsStandIn } from './sms';
import { startPushStandIn, type PushStandIn } from './push';

export interface Catcher {
  smtp?: SmtpStandIn;
  sms?: SmsStandIn;
  push?: PushStandIn;
  /** What each patient would have received, newest first. */
  caught(): Promise<CaughtByPatient[]>;
  /** GET /notifications/caught (HTML; ?format=json for JSON). */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

export interface CaughtItem { at: string; channel: 'email' | 'sms' | 'push'; to: string; title?: string; text: string; deliveryId?: string; status?: string; template?: string; reports?: string[] }
export interface CaughtByPatient { patientId: string; items: CaughtItem[] }

export const CAUGHT_PATH = '/notifications/caught';

async function tryStart<T>(what: string, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    logger.warn({ err: String(err) }, `the laptop ${what} catcher could not start; that channel's messages will fail over`);
    return undefined;
  }
}

export async function startCatcher(options: { ports?: { smtp?: number; sms?: number; push?: number }; env?: NodeJS.ProcessEnv } = {}): Promise<Catcher> {
  const env = options.env ?? process.env;
  const smtp = env.SMTP_URL ? undefined : await tryStart('SMTP', () => startSmtpStandIn({ port: options.ports?.smtp ?? LAPTOP_PROVIDERS.smtpPort }));
  const sms = env.SMS_API_URL ? undefined : await tryStart('SMS', () => startSmsStandIn({ port: options.ports?.sms ?? LAPTOP_PROVIDERS.smsPort, accountSid: env.SMS_ACCOUNT_SID ?? LAPTOP_PROVIDERS.smsAccountSid, authToken: env.SMS_AUTH_TOKEN ?? LAPTOP_PROVIDERS.smsAuthToken }));
  const push = await tryStart('Web Push', () => startPushStandIn({ port: options.ports?.push ?? LAPTOP_PROVIDERS.pushPort }));
  // The push channel trusts the catcher's certificate (made for this run).
  if (push && !env.WEB_PUSH_EXTRA_CA) env.WEB_PUSH_EXTRA_CA = push.ca;

  async function caught(): Promise<CaughtByPatient[]> {
    const items: CaughtItem[] = [
      ...(smtp?.emails ?? []).map((m): CaughtItem => ({ at: m.at, channel: 'email', to: m.to.join(', '), title: m.subject, text: m.text, deliveryId: m.deliveryId })),
      ...(sms?.messages ?? []).map((m): CaughtItem => ({ at: m.at, channel: 'sms', to: m.to, text: m.body, deliveryId: m.deliveryId, reports: m.callbacks.map((c) => c.status) })),
      ...(push?.received ?? []).map((p): CaughtItem => ({ at: p.at, channel: 'push', to: `subscription ${p.subscriptionId.slice(0, 8)}`, title: p.payload?.title, text: `${p.payload?.body ?? ''}${p.payload?.link ? ` → ${p.payload.link}` : ''}`, deliveryId: undefined, template: p.payload?.notificationId })),
    ];
    // Each message's delivery (by id; a push by its notification) says whose it is and where it stands now.
    const ids = items.map((i) => i.deliveryId).filter((id): id is string => !!id && /^[0-9a-f-]{36}$/.test(id));
    const pushed = items.filter((i) => i.channel === 'push' && i.template).map((i) => i.template!);
    const deliveries = ids.length || pushed.length
      ? await db().delivery.findMany({
        where: { OR: [{ id: { in: ids } }, { notificationId: { in: pushed }, channel: 'push' }] },
        select: { id: true, notificationId: true, channel: true, status: true, notification: { select: { patientId: true, team: true, template: true } } },
      })
      : [];
    const byPatient = new Map<string, CaughtItem[]>();
    for (const item of items) {
      const d = item.channel === 'push' ? deliveries.find((x) => x.channel === 'push' && x.notificationId === item.template) : deliveries.find((x) => x.id === item.deliveryId);
      const owner = d ? d.notification.patientId ?? `team ${d.notification.team}` : 'not a notification of this bundle';
      Object.assign(item, { status: d?.status, template: d?.notification.template, deliveryId: d?.id ?? item.deliveryId });
      byPatient.set(owner, [...(byPatient.get(owner) ?? []), item]);
    }
    return [...byPatient.entries()].map(([patientId, list]) => ({ patientId, items: list.sort((a, b) => b.at.localeCompare(a.at)) }));
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const patients = await caught();
    if (new URL(req.url ?? '/', 'http://local').searchParams.get('format') === 'json') {
      return void res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ patients }, null, 2));
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(patients, { smtp, sms, push }));
  }

  return {
    smtp, sms, push, caught, serve,
    close: async () => { await Promise.all([smtp?.close(), sms?.close(), push?.close()]); },
  };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function page(patients: CaughtByPatient[], servers: { smtp?: SmtpStandIn; sms?: SmsStandIn; push?: PushStandIn }): string {
  const where = [
    servers.smtp ? `email: SMTP at ${servers.smtp.url}` : 'email: SMTP_URL (a real server; not caught here)',
    servers.sms ? `SMS: Twilio-shaped API at ${servers.sms.url}` : 'SMS: SMS_API_URL (a real provider; not caught here)',
    servers.push ? `push: Web Push service at ${servers.push.url} (POST ${servers.push.url}/subscriptions makes a subscription to register)` : 'push: not caught',
  ];
  const sections = patients.map((p) => `<h2>${esc(p.patientId)}</h2><table><tr><th>when</th><th>channel</th><th>to</th><th>message</th><th>template</th><th>status now</th><th>provider reports</th></tr>
${p.items.map((i) => `<tr><td>${esc(i.at)}</td><td>${i.channel}</td><td>${esc(i.to)}</td><td>${i.title ? `<b>${esc(i.title)}</b><br>` : ''}${esc(i.text).replace(/\n/g, '<br>')}</td><td>${esc(i.template ?? '')}</td><td>${esc(i.status ?? '?')}</td><td>${esc((i.reports ?? []).join(' → '))}</td></tr>`).join('\n')}</table>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Caught notifications</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:1.5rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}</style></head>
<body><h1>What each patient would have received</h1><p>Nothing here reached anyone: ${where.map(esc).join('; ')}. JSON: <a href="?format=json">?format=json</a></p>
${sections || '<p>No email, SMS or push yet.</p>'}</body></html>`;
}
