// An SMS provider that speaks Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json with Basic
// auth and a form (To, From, Body, StatusCallback), answered 201 {sid, status: queued} (400 21211 for a number
// that is not one, 401 20003 for wrong credentials; the same I-Twilio-Idempotency-Token answers the first
// answer again, with no second message). Then, like Twilio, it calls the StatusCallback with sent and then
// delivered, signed with X-Twilio-Signature; a script per number makes them undelivered or failed, out of
// order, or twice. The tests' SMS provider, and the laptop catcher's.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { twilioSignature, SIGNATURE_HEADER } from '../../../../functions/notification/channels/twilio-signature';

export interface CaughtSms {
  at: string; sid: string; to: string; from: string; body: string; deliveryId?: string; statusCallback?: string;
  /** The I-Twilio-Idempotency-Token it came with: a second request with it is answered again and sends nothing. */
  idempotencyKey?: string;
  /** Each callback made: the status, and what the callback URL answered. */
  callbacks: Array<{ status: string; errorCode?: string; answered: number }>;
}

export interface CallbackScript { statuses: string[]; errorCode?: string }

export interface SmsStandIn {
  url: string;
  port: number;
  accountSid: string;
  authToken: string;
  messages: CaughtSms[];
  /** The callbacks for messages to this number (default: sent, then delivered). */
  script(to: string, script: CallbackScript): void;
  /** The next `count` sends are answered with this status (500, 503, 429) and nothing is sent. */
  failNext(status: number, count?: number): void;
  /** Every callback made so far has been answered. */
  settled(): Promise<void>;
  /** Runs `hook` for each message taken, before the API answers (a test's way to have a status report land before the sender hears back). */
  beforeAnswer(hook: ((message: CaughtSms) => Promise<void>) | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;

export async function startSmsStandIn(options: { port?: number; host?: string; accountSid: string; authToken: string }): Promise<SmsStandIn> {
  const messages: CaughtSms[] = [];
  const scripts = new Map<string, CallbackScript>();
  const failing: number[] = [];
  const answered = new Map<string, { status: number; body: unknown }>();
  const inFlight = new Set<Promise<void>>();
  let hook: ((message: CaughtSms) => Promise<void>) | undefined;
  const { accountSid, authToken } = options;
  const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const json = (res: ServerResponse, status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const twilioError = (res: ServerResponse, status: number, code: number, message: string): void => json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  async function callBack(message: CaughtSms, script: CallbackScript): Promise<void> {
    if (!message.statusCallback) return;
    for (const status of script.statuses) {
      const params: Record<string, string> = {
        AccountSid: accountSid, ApiVersion: '2010-04-01', From: message.from, To: message.to,
        MessageSid: message.sid, SmsSid: message.sid, MessageStatus: status, SmsStatus: status,
        ...((status === 'undelivered' || status === 'failed') ? { ErrorCode: script.errorCode ?? '30003' } : {}),
      };
      let status_ = 0;
      try {
        const res = await fetch(message.statusCallback, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', [SIGNATURE_HEADER]: twilioSignature(authToken, message.statusCallback, params), 'user-agent': 'TwilioProxy/1.1' },
          body: new URLSearchParams(params),
        });
        status_ = res.status;
        await res.arrayBuffer();
      } catch { /* a callback URL that does not answer: Twilio gives up too */ }
      message.callbacks.push({ status, ...(params.ErrorCode ? { errorCode: params.ErrorCode } : {}), answered: status_ });
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== path) return twilioError(res, 404, 20404, 'The requested resource was not found');
    const [user, pass] = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    if (user !== accountSid || pass !== authToken) return twilioError(res, 401, 20003, 'Authenticate');
    const key = req.headers['i-twilio-idempotency-token'];
    const again = typeof key === 'string' ? answered.get(key) : undefined;
    if (again) return json(res, again.status, again.body);
    const failure = failing.shift();
    if (failure) return twilioError(res, failure, failure === 429 ? 20429 : 20500, failure === 429 ? 'Too Many Requests' : 'Internal Server Error');
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To') ?? '';
    if (!E164.test(to)) return twilioError(res, 400, 21211, "The 'To' number is not a valid phone number.");
    if (!form.get('Body')) return twilioError(res, 400, 21602, 'Message body is required.');
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const statusCallback = form.get('StatusCallback') ?? undefined;
    let deliveryId: string | undefined;
    try { deliveryId = statusCallback ? new URL(statusCallback).searchParams.get('deliveryId') ?? undefined : undefined; } catch { /* kept without */ }
    const message: CaughtSms = { at: new Date().toISOString(), sid, to, from: form.get('From') ?? '', body: form.get('Body') ?? '', deliveryId, statusCallback, callbacks: [], ...(typeof key === 'string' ? { idempotencyKey: key } : {}) };
    messages.push(message);
    const now = new Date().toUTCString();
    const body = {
      sid, account_sid: accountSid, to, from: message.from, body: message.body, status: 'queued', num_segments: '1', direction: 'outbound-api',
      api_version: '2010-04-01', date_created: now, date_updated: now, date_sent: null, error_code: null, error_message: null, price: null,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    };
    if (typeof key === 'string') answered.set(key, { status: 201, body });
    await hook?.(message);
    json(res, 201, body);
    // Like Twilio: the status callbacks come after the answer, one after another.
    const p = new Promise<void>((r) => setImmediate(r)).then(() => callBack(message, scripts.get(to) ?? { statuses: ['sent', 'delivered'] }));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  const server = http.createServer((req, res) => void serve(req, res).catch(() => { if (!res.headersSent) twilioError(res, 500, 20500, 'Internal Server Error'); }));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}`, port, accountSid, authToken, messages,
    script: (to, script) => void scripts.set(to, script),
    failNext: (status, count = 1) => { for (let i = 0; i < count; i++) failing.push(status); },
    settled: async () => { while (inFlight.size) await Promise.all([...inFlight]); },
    beforeAnswer: (h) => { hook = h; },
    reset: () => { hook = undefined; messages.length = 0; scripts.clear(); failing.length = 0; answered.clear(); },
    close: async () => {
      await Promise.all([...inFlight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
