// SMS through a provider's HTTP API with delivery-status callbacks. The sender speaks to an SmsProvider; the
// Twilio-shaped one is here (Messages API, StatusCallback, X-Twilio-Signature), and a Vietnamese provider
// (an SMS brandname gateway) plugs in by implementing the same two halves: send, and read a callback.
import { ChannelUnavailable, type Channel, type Send, type SendResult } from './channel';
import { validTwilioSignature } from './twilio-signature';
import { fromProviderStatus, type DeliveryStatus } from '../delivery-rules';

export interface SmsMessage {
  to: string;
  body: string;
  /** Where the provider reports this message's status (it names the delivery). */
  statusCallback: string;
  idempotencyKey: string;
}

/** What a provider's status callback said, in our words (no address, no text). */
export interface SmsReport { providerMessageId: string; status: DeliveryStatus; errorCode?: string }

export interface SmsProvider {
  name: string;
  /** sent with the provider's message id; failed for a number it will never take; ChannelUnavailable for an outage. */
  send(message: SmsMessage): Promise<SendResult>;
  /** Whether a callback to `url` with these parameters carries the provider's valid signature. */
  verifyCallback(url: string, params: Record<string, string | string[]>, headers: Record<string, string | undefined>): boolean;
  /** The report a (verified) callback makes; a field it lacks or cannot be read is named. */
  readCallback(params: Record<string, unknown>): SmsReport | { invalid: string; reason: string };
}

export interface TwilioSettings { apiUrl: string; accountSid: string; authToken: string; from: string }

/** A stuck provider fails the attempt well inside a function's 30 s request. */
const TIMEOUT_MS = 10_000;
const INVALID_NUMBER = new Set([21211, 21614, 21408, 21610]);

export function twilioProvider(settings: TwilioSettings): SmsProvider {
  const auth = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  return {
    name: 'twilio',
    async send(message) {
      let res: Response;
      try {
        res = await fetch(`${settings.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', 'i-twilio-idempotency-token': message.idempotencyKey },
          body: new URLSearchParams({ To: message.to, From: settings.from, Body: message.body, StatusCallback: message.statusCallback }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        throw new ChannelUnavailable('sms', `the SMS provider could not be reached (${(err as Error).name})`);
      }
      const answer = (await res.json().catch(() => ({}))) as { sid?: string; status?: string; code?: number };
      if (res.status >= 500 || res.status === 429) {
        const retryAfter = Number(res.headers.get('retry-after')) || undefined;
        throw new ChannelUnavailable('sms', `the SMS provider answered ${res.status}`, retryAfter);
      }
      if (res.status >= 400) {
        // Our own account refused (20003 authentication) is an outage of ours, not this patient's number.
        if (res.status === 401 || res.status === 403) throw new ChannelUnavailable('sms', `the SMS provider refused our credentials (${answer.code ?? res.status})`);
        return { status: 'failed', provider: 'twilio', errorCode: String(answer.code ?? res.status) };
      }
      if (!answer.sid) throw new ChannelUnavailable('sms', 'the SMS provider answered without a message sid');
      const status = fromProviderStatus(answer.status ?? 'queued');
      if (status === 'failed' || status === 'undelivered') return { status: 'failed', provider: 'twilio', providerMessageId: answer.sid, errorCode: String(answer.code ?? status) };
      return { status: 'sent', provider: 'twilio', providerMessageId: answer.sid };
    },
    verifyCallback(url, params, headers) {
      return validTwilioSignature(settings.authToken, url, params, headers['x-twilio-signature']);
    },
    readCallback(params) {
      const sid = params.MessageSid;
      if (typeof sid !== 'string' || !/^[A-Za-z0-9]{2,64}$/.test(sid)) return { invalid: 'MessageSid', reason: 'is required: the provider\'s message id' };
      const raw = params.MessageStatus;
      const status = typeof raw === 'string' ? fromProviderStatus(raw) : undefined;
      if (!status) return { invalid: 'MessageStatus', reason: 'must be a status of an outgoing message (queued, sent, delivered, undelivered, failed, read)' };
      const code = params.ErrorCode;
      if (code !== undefined && code !== '' && (typeof code !== 'string' || !/^\d{1,10}$/.test(code))) return { invalid: 'ErrorCode', reason: 'must be a number' };
      return { providerMessageId: sid, status, ...(typeof code === 'string' && code ? { errorCode: code } : {}) };
    },
  };
}

/** Whether a number can be sent to at all (E.164): a contact without one fails at once, with no provider call. */
export const E164 = /^\+[1-9]\d{6,14}$/;

export function smsChannel(provider: SmsProvider, callbackBase: string, publicUrl: string): Channel {
  return {
    name: 'sms',
    async send(request: Send): Promise<SendResult> {
      if (typeof request.to !== 'string' || !E164.test(request.to)) return { status: 'failed', provider: provider.name, errorCode: 'no-address' };
      const link = request.message.link ? (/^https?:\/\//.test(request.message.link) ? request.message.link : `${publicUrl}${request.message.link}`) : undefined;
      return provider.send({
        to: request.to,
        body: link ? `${request.message.body} ${link}` : request.message.body,
        statusCallback: `${callbackBase}?${new URLSearchParams({ deliveryId: request.deliveryId })}`,
        idempotencyKey: request.idempotencyKey,
      });
    },
  };
}
