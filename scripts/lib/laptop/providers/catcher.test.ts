// npm start's catcher: the stand-ins the channels default to on a laptop, and the page that shows per
// patient what they would have received.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import * as sender from '../../../../functions/notification/sender/index';
import { db } from '../../../../functions/shared/db';
import { rereadChannelSettings } from '../../../../functions/notification/channels/settings';
import { resetChannels } from '../../../../functions/notification/channels/registry';
import { seedNotification, deliveryDue } from '../../../../test/support/notifications';
import { startFunction, deliver, resetDatabase, freePort, type RunningFunction } from '../../../../test/support/fixtures';
import { startCatcher, type Catcher } from './catcher';

describe('the laptop catcher (npm start)', function () {
  this.timeout(60_000);
  let catcher: Catcher;
  let fn: RunningFunction;
  const keys = ['SMTP_URL', 'SMS_API_URL', 'WEB_PUSH_EXTRA_CA', 'PUBLIC_URL'] as const;
  const previous = Object.fromEntries(keys.map((k) => [k, process.env[k]]));

  before(async () => {
    await resetDatabase();
    const env: NodeJS.ProcessEnv = {};
    catcher = await startCatcher({ env, ports: { smtp: await freePort(), sms: await freePort(), push: await freePort() } });
    // The channels' laptop defaults are these ports; here they are free ports, named as a laptop would not need to.
    Object.assign(process.env, { SMTP_URL: catcher.smtp!.url, SMS_API_URL: catcher.sms!.url, WEB_PUSH_EXTRA_CA: env.WEB_PUSH_EXTRA_CA, PUBLIC_URL: 'http://localhost:8080' });
    delete process.env.SMS_ACCOUNT_SID;
    delete process.env.SMS_AUTH_TOKEN;
    rereadChannelSettings();
    resetChannels();
    fn = await startFunction(sender);
  });
  after(async () => {
    await fn.close();
    await catcher.close();
    for (const k of keys) {
      if (previous[k] === undefined) delete process.env[k];
      else process.env[k] = previous[k];
    }
    rereadChannelSettings();
    resetChannels();
  });

  it('catches each patient\'s email, SMS and push and lists them per patient with their statuses', async () => {
    const an = await seedNotification({ patientId: 'p-an', plan: ['in-app', 'email'], contact: { language: 'en' } });
    const binh = await seedNotification({ patientId: 'p-binh', plan: ['in-app', 'sms', 'push'], deliver: ['in-app', 'sms', 'push'] });
    const browser = catcher.push!.subscribe();
    await db().pushSubscription.create({ data: { id: browser.id, patientId: 'p-binh', endpoint: browser.endpoint, p256dh: browser.p256dh, auth: browser.auth } });
    for (const [s, channel] of [[an, 'email'], [binh, 'sms'], [binh, 'push']] as const) assert.equal((await deliver(fn.url, deliveryDue(s, channel))).status, 200);

    const patients = await catcher.caught();
    const of = (id: string) => patients.find((p) => p.patientId === id)!.items.map((i) => [i.channel, i.status, i.template, i.title ?? i.text.slice(0, 20)]).sort();
    assert.deepEqual(of('p-an'), [['email', 'sent', 'results-ready', 'Your results are ready']]);
    assert.deepEqual(of('p-binh'), [['push', 'delivered', 'results-ready', 'Kết quả xét nghiệm đã sẵn sàng'], ['sms', 'sent', 'results-ready', 'Kết quả xét nghiệm c']]);

    const server = http.createServer((req, res) => void catcher.serve(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const html = await (await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/notifications/caught`)).text();
      assert.match(html, /<h2>p-an<\/h2>/);
      assert.match(html, /<h2>p-binh<\/h2>/);
      assert.match(html, /Your results are ready/);
    } finally {
      server.close();
    }
  });
});
