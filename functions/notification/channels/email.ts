// Email over SMTP (nodemailer). The Message-ID is made from the delivery's idempotency key, so a resend after
// a crash carries the same id and the receiving side (and our own history) can tell it is the same message.
// The SMTP server's 5xx (recipient refused, mailbox unknown) will never work for this address: failed, with
// the code. Anything else (connection refused, a timeout, a 4xx "try later") passes: ChannelUnavailable.
import nodemailer, { type Transporter } from 'nodemailer';
import { ChannelUnavailable, type Channel, type Send, type SendResult } from './channel';

/** A stuck SMTP server fails the attempt (retried later) well inside a function's 30 s request. */
const TIMEOUTS = { connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 };

export interface EmailSettings { smtpUrl: string; from: string }

/** The Message-ID a delivery's email carries, whatever attempt sends it. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'medlab.example';
  return `<${idempotencyKey}@${domain}>`;
}

export function emailText(request: Send, publicUrl: string): string {
  const link = request.message.link ? absolute(request.message.link, publicUrl) : undefined;
  return [request.message.body, ...(link ? ['', link] : [])].join('\n');
}

const absolute = (link: string, publicUrl: string) => (/^https?:\/\//.test(link) ? link : `${publicUrl}${link.startsWith('/') ? '' : '/'}${link}`);

export function emailChannel(settings: EmailSettings, publicUrl: string): Channel {
  let transport: Transporter | undefined;
  return {
    name: 'email',
    async send(request: Send): Promise<SendResult> {
      if (typeof request.to !== 'string' || !request.to) return { status: 'failed', provider: 'smtp', errorCode: 'no-address' };
      transport ??= nodemailer.createTransport({ url: settings.smtpUrl, ...TIMEOUTS });
      const messageId = messageIdFor(request.idempotencyKey, settings.from);
      try {
        await transport.sendMail({
          from: settings.from, to: request.to, subject: request.message.title, text: emailText(request, publicUrl), messageId,
          headers: { 'X-Medlab-Delivery-Id': request.deliveryId },
        });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        if (code && code >= 500) return { status: 'failed', provider: 'smtp', providerMessageId: messageId, errorCode: `smtp-${code}` };
        throw new ChannelUnavailable('email', code ? `the SMTP server answered ${code}` : `the SMTP server could not be reached (${(err as { code?: string }).code ?? 'error'})`);
      }
      return { status: 'sent', provider: 'smtp', providerMessageId: messageId };
    },
  };
}
