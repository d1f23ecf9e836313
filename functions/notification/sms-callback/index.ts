// The SMS provider's status callbacks (Twilio's StatusCallback: a form POST per status change). The signature
// is the auth: a callback not signed with our auth token over the URL we gave and its parameters is refused
// (403), one that is signed but unreadable is refused naming the field (400). An accepted one is put on
// notification-updates as delivery-reported and answered 204 at once; the updates consumer applies it in
// order per delivery. Nothing the provider sent but ids, the status and its code goes further (not the number).
import { route } from '../../shared/http';
import { forbidden, invalid } from '../../shared/errors';
import { warmBeforeReady } from '../../shared/lifecycle';
import { refuse } from '../../shared/config';
import { system } from '../system';
import { channelSettings } from '../channels/settings';
import { smsProvider } from '../channels/registry';
export { init, shutdown } from '../../shared/lifecycle';

const PATH = '/api/notifications/callbacks/sms';

// In production a missing provider setting (the auth token that checks signatures) stops it at start-up.
warmBeforeReady(() => refuse(() => void channelSettings()));

/** The URL the provider signed: the public callback address we gave it, with its query as it came. */
function signedUrl(query: Record<string, unknown>): string {
  const search = new URLSearchParams(Object.entries(query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, String(x)]) : [[k, String(v)]]))).toString();
  return `${channelSettings().sms.callbackBase}${search ? `?${search}` : ''}`;
}

const formParams = (body: unknown): Record<string, string | string[]> | undefined =>
  body && typeof body === 'object' && !Buffer.isBuffer(body) && !Array.isArray(body) && Object.values(body).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
    ? (body as Record<string, string | string[]>)
    : undefined;

export const handle = route(
  {
    name: 'notification-sms-callback', system, method: 'POST', path: PATH, auth: 'public',
    summary: 'The SMS provider reports a message\'s status (Twilio StatusCallback, X-Twilio-Signature checked)',
    bodyType: 'form',
    verify: ({ headers, query, body }) => {
      const params = formParams(body);
      if (!headers['x-twilio-signature']) throw forbidden('the callback is not signed (X-Twilio-Signature)');
      if (!params || !smsProvider().verifyCallback(signedUrl(query), params, headers)) throw forbidden('the callback\'s signature does not match');
    },
    query: {
      type: 'object', additionalProperties: false, required: ['deliveryId'],
      properties: { deliveryId: { type: 'string', format: 'uuid' } },
    },
    body: {
      type: 'object', required: ['MessageSid', 'MessageStatus'],
      properties: {
        MessageSid: { type: 'string', minLength: 2, maxLength: 64 },
        MessageStatus: { type: 'string', maxLength: 30 },
        ErrorCode: { type: 'string', maxLength: 10 },
      },
    },
    responses: { 204: { description: 'The report is taken; the delivery\'s status follows shortly' } },
  },
  async ({ body, query, emitOnly }) => {
    const report = smsProvider().readCallback(body as Record<string, unknown>);
    if ('invalid' in report) throw invalid([{ name: `body/${report.invalid}`, reason: report.reason }]);
    await emitOnly((emit) => emit('com.medlab.notification.delivery-reported', {
      deliveryId: query.deliveryId, channel: 'sms', provider: smsProvider().name, providerMessageId: report.providerMessageId,
      status: report.status, at: new Date().toISOString(), ...(report.errorCode ? { errorCode: report.errorCode } : {}),
    }));
    return { status: 204 };
  },
);
