// Test data of the notification system: a patient's contacts, a notification with its channel plan and the
// deliveries the dispatcher would have made, and the provider stand-ins pointed at by this process's channels.
import { randomUUID } from 'node:crypto';
import { db } from '../../functions/shared/db';
import { rereadChannelSettings } from '../../functions/notification/channels/settings';
import { resetChannels } from '../../functions/notification/channels/registry';
import { startSmtpStandIn, type SmtpStandIn } from '../../scripts/lib/laptop/providers/smtp';
import { startSmsStandIn, type SmsStandIn } from '../../scripts/lib/laptop/providers/sms';
import { startPushStandIn, type PushStandIn } from '../../scripts/lib/laptop/providers/push';

export interface StandIns { smtp: SmtpStandIn; sms: SmsStandIn; push: PushStandIn; close(): Promise<void> }

const SETTINGS = ['SMTP_URL', 'SMS_API_URL', 'SMS_ACCOUNT_SID', 'SMS_AUTH_TOKEN', 'SMS_FROM', 'WEB_PUSH_EXTRA_CA', 'PUBLIC_URL', 'NOTIFICATION_EMAIL_FROM'] as const;

/** The three stand-ins, and this process's channels pointed at them (callbacks to publicUrl). */
export async function startStandIns(publicUrl: string): Promise<StandIns> {
  const previous = Object.fromEntries(SETTINGS.map((k) => [k, process.env[k]]));
  const smtp = await startSmtpStandIn();
  const sms = await startSmsStandIn({ accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: `token-${randomUUID()}` });
  const push = await startPushStandIn();
  Object.assign(process.env, {
    SMTP_URL: smtp.url, SMS_API_URL: sms.url, SMS_ACCOUNT_SID: sms.accountSid, SMS_AUTH_TOKEN: sms.authToken, SMS_FROM: 'MEDLAB',
    WEB_PUSH_EXTRA_CA: push.ca, PUBLIC_URL: publicUrl, NOTIFICATION_EMAIL_FROM: 'MedLab <no-reply@medlab.example>',
  });
  rereadChannelSettings();
  resetChannels();
  return {
    smtp, sms, push,
    close: async () => {
      await Promise.all([smtp.close(), sms.close(), push.close()]);
      for (const k of SETTINGS) {
        if (previous[k] === undefined) delete process.env[k];
        else process.env[k] = previous[k];
      }
      rereadChannelSettings();
      resetChannels();
    },
  };
}

export interface Seeded { notificationId: string; requestId: string; patientId: string; deliveries: Record<string, string> }

/**
 * A patient's notification as the dispatcher leaves it: its plan, and a queued delivery for in-app and for
 * the first other channel (or the channels named).
 */
export async function seedNotification(opts: {
  patientId?: string; plan?: string[]; deliver?: string[]; template?: string; variables?: Record<string, string>;
  contact?: { email?: string; phone?: string; language?: string } | null;
} = {}): Promise<Seeded> {
  const patientId = opts.patientId ?? `p-${randomUUID().slice(0, 8)}`;
  const plan = opts.plan ?? ['in-app', 'sms', 'email'];
  if (opts.contact !== null) {
    await db().contactPoint.upsert({
      where: { patientId },
      create: { patientId, email: 'an.nguyen@example.vn', phone: '+84901234567', language: 'vi', ...opts.contact },
      update: {},
    });
  }
  const requestId = `req-${randomUUID()}`;
  const n = await db().notification.create({
    data: {
      requestId, recipientKind: 'patient', patientId, template: opts.template ?? 'results-ready', category: 'results',
      variables: opts.variables ?? { link: '/results/acc-1' }, channels: plan, status: 'dispatched',
    },
  });
  const deliveries: Record<string, string> = {};
  for (const channel of opts.deliver ?? [plan[0], ...plan.slice(1, 2)]) {
    deliveries[channel] = (await db().delivery.create({ data: { notificationId: n.id, channel } })).id;
  }
  return { notificationId: n.id, requestId, patientId, deliveries };
}

export const deliveryDue = (s: Seeded, channel: string, id = randomUUID()) => ({
  id, type: 'com.medlab.notification.delivery-due', source: '/notification/dispatcher',
  data: { deliveryId: s.deliveries[channel], notificationId: s.notificationId, channel, attempt: 1 },
});
