// What every channel is to the sender: given one rendered message and where it goes, send it once. Each
// channel speaks its real protocol (email: SMTP; sms: the provider's HTTP API with status callbacks; push:
// Web Push with VAPID; in-app: the inbox table) and says what happened in the words providers use.
import type { Tx } from '../../shared/db';

export type ChannelName = 'in-app' | 'push' | 'sms' | 'email';

/** A message as the patient reads it: words from a template, no health data, a link into the portal. */
export interface RenderedMessage {
  /** Email subject, push title, inbox title. */
  title: string;
  /** Email body, push body, SMS text, inbox body. */
  body: string;
  /** Into the portal (an expiring link for results). */
  link?: string;
  language: 'vi' | 'en';
}

/** Where one delivery goes and what to send. The address is read from the contact copy at send time, never stored with the delivery. */
export interface Send {
  deliveryId: string;
  notificationId: string;
  patientId?: string;
  category: string;
  message: RenderedMessage;
  /** email address, E.164 phone, or push subscriptions; in-app needs none. */
  to?: string | Array<{ endpoint: string; p256dh: string; auth: string; id: string }>;
  /**
   * The send's identity, the same on every retry of it (a retry after a timeout or a crash is not a second
   * message): the SMS provider's idempotency token, the email's Message-ID, the push Topic. A staff resend has a new one.
   */
  idempotencyKey: string;
}

/**
 * sent: the provider took it (a callback will say delivered or undelivered later); delivered: final at once
 * (in-app, a push service's 201); failed: will never work for this address (no retry; the next channel is
 * tried). A transient failure (timeout, 5xx, connection refused) is thrown as ChannelUnavailable and retried.
 */
export interface SendResult {
  status: 'sent' | 'delivered' | 'failed';
  provider: string;
  providerMessageId?: string;
  /** A provider's code or a short reason, never free text that could hold an address. */
  errorCode?: string;
}

export class ChannelUnavailable extends Error {
  constructor(readonly channel: ChannelName, reason: string, readonly retryAfterSeconds?: number) {
    super(`${channel}: ${reason}`);
    this.name = 'ChannelUnavailable';
  }
}

export interface Channel {
  name: ChannelName;
  /** The in-app channel writes in the caller's transaction; the others ignore tx and talk to their provider. */
  send(request: Send, tx?: Tx): Promise<SendResult>;
}
