import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { startFunction, resetDatabase, published, type RunningFunction } from '../../../test/support/fixtures';
import { twilioSignature } from '../channels/twilio-signature';
import { rereadChannelSettings } from '../channels/settings';
import { resetChannels } from '../channels/registry';

const PUBLIC = 'https://portal.medlab.example';
const TOKEN = 'callback-test-token';
const SID = 'SM0123456789abcdef0123456789abcdef';

describe('notification-sms-callback (POST /api/notifications/callbacks/sms)', function () {
  this.timeout(30_000);
  let callback: RunningFunction;
  const previous = { url: process.env.PUBLIC_URL, token: process.env.SMS_AUTH_TOKEN };

  before(async () => {
    process.env.PUBLIC_URL = PUBLIC;
    process.env.SMS_AUTH_TOKEN = TOKEN;
    rereadChannelSettings();
    resetChannels();
    callback = await startFunction(fn);
  });
  after(async () => {
    await callback.close();
    for (const [k, v] of [['PUBLIC_URL', previous.url], ['SMS_AUTH_TOKEN', previous.token]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rereadChannelSettings();
    resetChannels();
  });
  beforeEach(() => resetDatabase());

  /** Posts a form as Twilio does, to the function (the gateway rewrites the path; the query stays), signed over the public URL. */
  const post = async (params: Record<string, string>, opts: { deliveryId?: string; token?: string; signature?: string | null; contentType?: string; body?: string } = {}) => {
    const query = opts.deliveryId === undefined ? '' : `?deliveryId=${opts.deliveryId}`;
    const signature = opts.signature === null ? undefined : opts.signature ?? twilioSignature(opts.token ?? TOKEN, `${PUBLIC}/api/notifications/callbacks/sms${query}`, params);
    const res = await fetch(`${callback.url}/${query}`, {
      method: 'POST',
      headers: { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
      body: opts.body ?? new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  };
  const twilio = (status: string, extra: Record<string, string> = {}) => ({
    AccountSid: 'AC0123', ApiVersion: '2010-04-01', From: 'MEDLAB', To: '+84901234567', MessageSid: SID, SmsSid: SID, MessageStatus: status, SmsStatus: status, ...extra,
  });
  const reported = async () => (await published('notification-updates')).filter((e) => e.type === 'com.medlab.notification.delivery-reported');

  it('a signed callback is answered 204 and put on notification-updates as delivery-reported, without the number', async () => {
    const deliveryId = randomUUID();
    const res = await post(twilio('undelivered', { ErrorCode: '30003' }), { deliveryId });
    assert.equal(res.status, 204);
    const [event] = await reported();
    assert.equal(event.key, deliveryId);
    assert.deepEqual({ ...event.data, at: undefined }, { deliveryId, channel: 'sms', provider: 'twilio', providerMessageId: SID, status: 'undelivered', errorCode: '30003', at: undefined });
    assert.doesNotMatch(JSON.stringify(event), /84901234567/);
    assert.equal((await post(twilio('sending'), { deliveryId })).status, 204);
    assert.equal((await reported())[1].data.status, 'sent', 'Twilio\'s sending is our sent');
  });

  it('refuses an unsigned, a forged or a re-targeted callback with 403 problem+json, before reading its fields', async () => {
    const deliveryId = randomUUID();
    const unsigned = await post(twilio('delivered'), { deliveryId, signature: null });
    assert.equal(unsigned.status, 403);
    assert.match(unsigned.type!, /^application\/problem\+json/);
    assert.match(unsigned.body.detail, /not signed/);
    const forged = await post(twilio('delivered'), { deliveryId, token: 'not-our-token' });
    assert.equal(forged.status, 403);
    assert.match(forged.body.detail, /signature does not match/);
    // Signed for one delivery, replayed against another.
    const signature = twilioSignature(TOKEN, `${PUBLIC}/api/notifications/callbacks/sms?deliveryId=${deliveryId}`, twilio('delivered'));
    assert.equal((await post(twilio('delivered'), { deliveryId: randomUUID(), signature })).status, 403);
    // Changed after signing.
    assert.equal((await post(twilio('delivered'), { deliveryId, signature: twilioSignature(TOKEN, `${PUBLIC}/api/notifications/callbacks/sms?deliveryId=${deliveryId}`, twilio('failed')) })).status, 403);
    assert.equal((await post({}, { deliveryId, signature: null, body: 'MessageStatus' })).status, 403, 'an unsigned malformed one learns nothing of the schema');
    assert.deepEqual(await reported(), []);
  });

  it('refuses a signed but malformed callback with 400 naming the field; never a 500', async () => {
    const deliveryId = randomUUID();
    const noStatus = await post({ MessageSid: SID }, { deliveryId });
    assert.equal(noStatus.status, 400);
    assert.deepEqual(noStatus.body['invalid-params'].map((p: { name: string }) => p.name), ['body/MessageStatus']);
    const inbound = await post(twilio('received'), { deliveryId });
    assert.equal(inbound.status, 400);
    assert.deepEqual(inbound.body['invalid-params'].map((p: { name: string }) => p.name), ['body/MessageStatus']);
    const code = await post(twilio('failed', { ErrorCode: 'x' }), { deliveryId });
    assert.deepEqual(code.body['invalid-params'].map((p: { name: string }) => p.name), ['body/ErrorCode']);
    const noDelivery = await post(twilio('delivered'));
    assert.equal(noDelivery.status, 400);
    assert.deepEqual(noDelivery.body['invalid-params'].map((p: { name: string }) => p.name), ['query/deliveryId']);
    const notUuid = await post(twilio('delivered'), { deliveryId: 'abc' });
    assert.deepEqual(notUuid.body['invalid-params'].map((p: { name: string }) => p.name), ['query/deliveryId']);
    const json = await post({}, { deliveryId, contentType: 'application/json', body: JSON.stringify(twilio('delivered')), signature: twilioSignature(TOKEN, `${PUBLIC}/api/notifications/callbacks/sms?deliveryId=${deliveryId}`, twilio('delivered')) });
    assert.equal(json.status, 415);
    const garbage = await post({}, { deliveryId, body: '%%%&&&=' });
    assert.equal(garbage.status, 403);
    assert.deepEqual(await reported(), []);
  });
});
