// Each channel over its real protocol, against the stand-in the laptop catcher also runs: an email received
// over SMTP, an SMS taken by a Twilio-shaped API whose callbacks arrive signed, a push received and decrypted.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { emailChannel, messageIdFor } from './email';
import { smsChannel, twilioProvider } from './sms';
import { pushChannel } from './push';
import { ChannelUnavailable, type Send } from './channel';
import { channelSettingsFrom } from './settings';
import { validTwilioSignature } from './twilio-signature';
import { render } from '../templates';
import { startSmtpStandIn, type SmtpStandIn } from '../../../scripts/lib/laptop/providers/smtp';
import { startSmsStandIn, type SmsStandIn } from '../../../scripts/lib/laptop/providers/sms';
import { startPushStandIn, type PushStandIn } from '../../../scripts/lib/laptop/providers/push';
import { eventually, freePort } from '../../../test/support/fixtures';

const PUBLIC = 'https://portal.medlab.example';

const sendOf = (over: Partial<Send> = {}): Send => {
  const deliveryId = randomUUID();
  return {
    deliveryId, notificationId: randomUUID(), patientId: 'p-ch', category: 'results',
    message: render('results-ready', 'vi', { link: '/results/r-1' }), idempotencyKey: deliveryId, ...over,
  };
};

describe('notification channels against their provider stand-ins', function () {
  this.timeout(30_000);

  describe('email over SMTP', () => {
    let smtp: SmtpStandIn;
    before(async () => { smtp = await startSmtpStandIn(); });
    after(() => smtp.close());
    beforeEach(() => smtp.reset());
    const email = () => emailChannel({ smtpUrl: smtp.url, from: 'MedLab <no-reply@medlab.example>' }, PUBLIC);

    it('the patient receives the template\'s subject and body with a link into the portal, and nothing else', async () => {
      const send = sendOf({ to: 'an@example.vn' });
      const result = await email().send(send);
      assert.deepEqual(result, { status: 'sent', provider: 'smtp', providerMessageId: `<${send.deliveryId}@medlab.example>` });
      assert.equal(smtp.emails.length, 1);
      const [mail] = smtp.emails;
      assert.deepEqual(mail.to, ['an@example.vn']);
      assert.equal(mail.from, 'no-reply@medlab.example');
      assert.equal(mail.subject, 'Kết quả xét nghiệm đã sẵn sàng');
      assert.equal(mail.text, 'Kết quả xét nghiệm của bạn đã có. Vui lòng đăng nhập cổng thông tin bệnh nhân để xem.\n\nhttps://portal.medlab.example/results/r-1');
      assert.equal(mail.messageId, messageIdFor(send.deliveryId, 'MedLab <no-reply@medlab.example>'));
      assert.equal(mail.deliveryId, send.deliveryId);
    });

    it('a resend of the same delivery carries the same Message-ID', async () => {
      const send = sendOf({ to: 'an@example.vn' });
      await email().send(send);
      await email().send(send);
      assert.equal(smtp.emails[0].messageId, smtp.emails[1].messageId);
    });

    it('a refused recipient (550) is failed with the code; a 451 or a server that is not there is unavailable', async () => {
      smtp.refuseRecipient('gone@example.vn');
      assert.deepEqual((await email().send(sendOf({ to: 'gone@example.vn' }))).errorCode, 'smtp-550');
      smtp.refuseNext(451);
      await assert.rejects(email().send(sendOf({ to: 'an@example.vn' })), (e) => e instanceof ChannelUnavailable && /451/.test(e.message));
      const nowhere = emailChannel({ smtpUrl: `smtp://127.0.0.1:${await freePort()}`, from: 'no-reply@medlab.example' }, PUBLIC);
      await assert.rejects(nowhere.send(sendOf({ to: 'an@example.vn' })), (e) => e instanceof ChannelUnavailable && /could not be reached/.test(e.message));
      assert.equal(smtp.emails.length, 0);
    });

    it('no address is failed at once, with no SMTP conversation', async () => {
      assert.deepEqual(await email().send(sendOf()), { status: 'failed', provider: 'smtp', errorCode: 'no-address' });
    });
  });

  describe('SMS through the Twilio-shaped API', () => {
    let sms: SmsStandIn;
    let callbacks: http.Server;
    let callbackBase = '';
    const posted: Array<{ url: string; signature: string; params: Record<string, string> }> = [];
    before(async () => {
      sms = await startSmsStandIn({ accountSid: 'AC1234', authToken: 'secret-token' });
      callbacks = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          posted.push({ url: `${callbackBase}${req.url!.replace(/^\/cb/, '')}`, signature: String(req.headers['x-twilio-signature']), params: Object.fromEntries(new URLSearchParams(body)) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', r));
      callbackBase = `http://127.0.0.1:${(callbacks.address() as { port: number }).port}/cb`;
    });
    after(async () => { await sms.close(); await new Promise((r) => callbacks.close(r)); });
    beforeEach(() => { sms.reset(); posted.length = 0; });
    const channel = (token = 'secret-token') => smsChannel(twilioProvider({ apiUrl: sms.url, accountSid: 'AC1234', authToken: token, from: 'MEDLAB' }), callbackBase, PUBLIC);

    it('is accepted (queued → sent, with the sid), and its callbacks arrive signed: sent, then delivered', async () => {
      const send = sendOf({ to: '+84901234567' });
      const result = await channel().send(send);
      assert.equal(result.status, 'sent');
      assert.match(result.providerMessageId!, /^SM[0-9a-f]{32}$/);
      assert.equal(sms.messages.length, 1);
      assert.equal(sms.messages[0].body, 'Kết quả xét nghiệm của bạn đã có. Vui lòng đăng nhập cổng thông tin bệnh nhân để xem. https://portal.medlab.example/results/r-1');
      assert.equal(sms.messages[0].from, 'MEDLAB');
      await sms.settled();
      assert.deepEqual(posted.map((p) => p.params.MessageStatus), ['sent', 'delivered']);
      for (const p of posted) {
        assert.equal(p.url, `${callbackBase}?deliveryId=${send.deliveryId}`);
        assert.equal(p.params.MessageSid, result.providerMessageId);
        assert.ok(validTwilioSignature('secret-token', p.url, p.params, p.signature), 'signed with the auth token over the URL and sorted params');
        assert.ok(!validTwilioSignature('another-token', p.url, p.params, p.signature));
      }
    });

    it('the same idempotency key twice is one message', async () => {
      const send = sendOf({ to: '+84901234567' });
      const first = await channel().send(send);
      const again = await channel().send(send);
      assert.equal(again.providerMessageId, first.providerMessageId);
      assert.equal(sms.messages.length, 1);
    });

    it('an invalid number (21211) is failed; 5xx, 429 and wrong credentials are unavailable', async () => {
      assert.deepEqual(await channel().send(sendOf({ to: '+8400' })), { status: 'failed', provider: 'twilio', errorCode: 'no-address' }, 'not E.164: no provider call');
      const provider = twilioProvider({ apiUrl: sms.url, accountSid: 'AC1234', authToken: 'secret-token', from: 'MEDLAB' });
      assert.deepEqual(await provider.send({ to: '84901234567', body: 'x', statusCallback: callbackBase, idempotencyKey: randomUUID() }), { status: 'failed', provider: 'twilio', errorCode: '21211' });
      sms.failNext(503);
      await assert.rejects(channel().send(sendOf({ to: '+84901234567' })), (e) => e instanceof ChannelUnavailable && /503/.test(e.message));
      sms.failNext(429);
      await assert.rejects(channel().send(sendOf({ to: '+84901234567' })), (e) => e instanceof ChannelUnavailable && /429/.test(e.message));
      await assert.rejects(channel('wrong').send(sendOf({ to: '+84901234567' })), (e) => e instanceof ChannelUnavailable && /credentials/.test(e.message));
      assert.equal(sms.messages.length, 0);
    });

    it('a scripted number gets its callbacks undelivered with the code, out of order and twice', async () => {
      sms.script('+84900000001', { statuses: ['undelivered'], errorCode: '30003' });
      sms.script('+84900000002', { statuses: ['delivered', 'sent', 'delivered'] });
      await channel().send(sendOf({ to: '+84900000001' }));
      await channel().send(sendOf({ to: '+84900000002' }));
      await sms.settled();
      assert.deepEqual(posted.map((p) => [p.params.MessageStatus, p.params.ErrorCode]), [['undelivered', '30003'], ['delivered', undefined], ['sent', undefined], ['delivered', undefined]]);
    });
  });

  describe('Web Push with VAPID', () => {
    let push: PushStandIn;
    const gone: string[] = [];
    before(async () => { push = await startPushStandIn(); });
    after(() => push.close());
    beforeEach(() => { push.reset(); gone.length = 0; });
    const channel = () => {
      const { push: vapid } = channelSettingsFrom({ WEB_PUSH_EXTRA_CA: push.ca });
      return pushChannel(vapid, async (ids) => void gone.push(...ids));
    };

    it('every live subscription receives the notice, encrypted for it and signed with VAPID: {title, body, link, notificationId}', async () => {
      const phone = push.subscribe();
      const laptop = push.subscribe();
      const send = sendOf({ to: [phone, laptop] });
      const result = await channel().send(send);
      assert.equal(result.status, 'delivered');
      assert.deepEqual(push.refused, []);
      assert.deepEqual(push.received.map((r) => r.subscriptionId).sort(), [phone.id, laptop.id].sort());
      for (const r of push.received) {
        assert.deepEqual(r.payload, { title: send.message.title, body: send.message.body, link: '/results/r-1', notificationId: send.notificationId });
        assert.equal(r.ttl, 86400);
        assert.equal(r.vapidSubject, 'mailto:no-reply@medlab.example');
        assert.equal(r.topic, send.idempotencyKey.replace(/-/g, ''));
      }
    });

    it('a gone subscription (410) is marked; with none left the push is failed no-subscription', async () => {
      const live = push.subscribe();
      const old = push.subscribe();
      push.expire(old.id);
      assert.equal((await channel().send(sendOf({ to: [old, live] }))).status, 'delivered');
      assert.deepEqual(gone, [old.id]);
      assert.deepEqual(await channel().send(sendOf({ to: [old] })), { status: 'failed', provider: 'webpush', errorCode: 'no-subscription' });
      assert.deepEqual(await channel().send(sendOf({ to: [] })), { status: 'failed', provider: 'webpush', errorCode: 'no-subscription' });
    });

    it('a push service answering 5xx or 429 is unavailable', async () => {
      const s = push.subscribe();
      push.failNext(500);
      await assert.rejects(channel().send(sendOf({ to: [s] })), (e) => e instanceof ChannelUnavailable && /500/.test(e.message));
      push.failNext(429);
      await assert.rejects(channel().send(sendOf({ to: [s] })), (e) => e instanceof ChannelUnavailable && e.retryAfterSeconds === 30);
      await eventually(() => push.received.length === 0, 'nothing received');
    });
  });
});
