import { strict as assert } from 'node:assert';
import { zoneOf } from '../../shared/calendar';
import { quietUntil } from './quiet-hours';
import { planChannels } from './channel-plan';
import { parsePolicy, notificationPolicy } from './policy';

const NIGHT = { start: '21:00', end: '07:00' };
const defaults = { results: ['in-app', 'push', 'sms', 'email'], appointment: ['in-app', 'sms', 'email'], '*': ['in-app', 'sms', 'email'] };
const all = { email: true, phone: true, push: true };

describe('quiet hours (on the patient\'s clock)', () => {
  it('23:00 in Ho Chi Minh City waits until 07:00 the next morning', () => {
    // 2026-12-08 23:00 +07 = 16:00Z
    assert.equal(quietUntil(new Date('2026-12-08T16:00:00Z'), 'Asia/Ho_Chi_Minh', NIGHT)?.toISOString(), '2026-12-09T00:00:00.000Z');
  });
  it('03:00 after midnight waits until 07:00 the same morning; 07:00 itself and noon are not quiet; 21:00 is', () => {
    assert.equal(quietUntil(new Date('2026-12-08T20:00:00Z'), 'Asia/Ho_Chi_Minh', NIGHT)?.toISOString(), '2026-12-09T00:00:00.000Z');
    assert.equal(quietUntil(new Date('2026-12-09T00:00:00Z'), 'Asia/Ho_Chi_Minh', NIGHT), undefined);
    assert.equal(quietUntil(new Date('2026-12-09T05:00:00Z'), 'Asia/Ho_Chi_Minh', NIGHT), undefined);
    assert.equal(quietUntil(new Date('2026-12-08T14:00:00Z'), 'Asia/Ho_Chi_Minh', NIGHT)?.toISOString(), '2026-12-09T00:00:00.000Z');
  });
  it('the same instant is quiet in Ho Chi Minh City and not in Berlin (the patient\'s own zone decides)', () => {
    const at = new Date('2026-12-08T16:00:00Z'); // 23:00 in HCM, 17:00 in Berlin
    assert.ok(quietUntil(at, 'Asia/Ho_Chi_Minh', NIGHT));
    assert.equal(quietUntil(at, 'Europe/Berlin', NIGHT), undefined);
    // 22:30 in Berlin (winter, +01) waits until 07:00 Berlin = 06:00Z
    assert.equal(quietUntil(new Date('2026-12-08T21:30:00Z'), 'Europe/Berlin', NIGHT)?.toISOString(), '2026-12-09T06:00:00.000Z');
  });
  it('across a daylight-saving change the end is read on the new clock', () => {
    // Berlin springs forward on 2027-03-28 02:00 → 03:00. 23:00 on the 27th (+01, 22:00Z) waits until 07:00 +02 = 05:00Z.
    assert.equal(quietUntil(new Date('2027-03-27T22:00:00Z'), 'Europe/Berlin', NIGHT)?.toISOString(), '2027-03-28T05:00:00.000Z');
  });
  it('a window within one day (12:00–13:30), and equal start and end meaning none', () => {
    const lunch = { start: '12:00', end: '13:30' };
    assert.equal(quietUntil(new Date('2026-12-08T05:15:00Z'), 'Asia/Ho_Chi_Minh', lunch)?.toISOString(), '2026-12-08T06:30:00.000Z');
    assert.equal(quietUntil(new Date('2026-12-08T06:30:00Z'), 'Asia/Ho_Chi_Minh', lunch), undefined);
    assert.equal(quietUntil(new Date('2026-12-08T16:00:00Z'), 'Asia/Ho_Chi_Minh', { start: '00:00', end: '00:00' }), undefined);
  });
  it('a zone Intl does not know reads as the clinics\' zone', () => {
    assert.equal(zoneOf('Mars/Olympus'), 'Asia/Ho_Chi_Minh');
    assert.ok(quietUntil(new Date('2026-12-08T16:00:00Z'), 'Mars/Olympus', NIGHT));
  });
});

describe('channel planning', () => {
  it('the category\'s preference wins over the patient\'s \'*\', which wins over the policy', () => {
    const rows = [{ category: '*', channels: ['email'] }, { category: 'results', channels: ['sms', 'push'] }];
    assert.deepEqual(planChannels(rows, 'results', defaults, all), { channels: ['in-app', 'sms', 'push'], source: 'category' });
    assert.deepEqual(planChannels(rows, 'appointment', defaults, all), { channels: ['in-app', 'email'], source: 'all' });
    assert.deepEqual(planChannels([], 'results', defaults, all), { channels: ['in-app', 'push', 'sms', 'email'], source: 'policy' });
    assert.deepEqual(planChannels([], 'queue', defaults, all).channels, ['in-app', 'sms', 'email'], 'a category the policy does not name takes its \'*\'');
  });
  it('only channels with a contact are kept; in-app always comes first', () => {
    assert.deepEqual(planChannels([], 'results', defaults, { email: true, phone: false, push: false }).channels, ['in-app', 'email']);
    assert.deepEqual(planChannels([{ category: 'results', channels: ['email', 'in-app'] }], 'results', defaults, all).channels, ['in-app', 'email']);
  });
  it('no usable channel: in-app alone, with the reason (never the contact)', () => {
    const none = planChannels([], 'appointment', defaults, { email: false, phone: false, push: true });
    assert.deepEqual(none.channels, ['in-app']);
    assert.equal(none.unreachable, 'no usable channel for appointment: sms (no phone number), email (no email address)');
    const optedOut = planChannels([{ category: '*', channels: [] }], 'results', defaults, all);
    assert.deepEqual([optedOut.channels, optedOut.unreachable], [['in-app'], 'the patient chose no channel outside the inbox for results']);
  });
});

describe('the notification policy (knative/base/notification/policy.yaml)', () => {
  it('the committed ConfigMap parses: defaults per category, quiet hours, teams with addresses, links', () => {
    const p = notificationPolicy();
    assert.deepEqual(p.channels.defaults.results, ['in-app', 'push', 'sms', 'email']);
    assert.deepEqual(p.quietHours, { start: '21:00', end: '07:00' });
    assert.ok(p.teams.platform.email.length >= 1);
    assert.equal(p.links.validDays, 7);
  });
  it('a policy that does not hold together is refused naming the field', () => {
    assert.throws(() => parsePolicy('channels: {defaults: {"*": [fax]}}\nquietHours: {start: "25:00", end: "07:00"}\nteams: {}\nlinks: {portalUrl: https://p, validDays: 7}', 'test.yaml'),
      /test\.yaml: policy\/channels\.defaults\.\*\.0 must be equal to one of the allowed values; policy\/quietHours\.start must match pattern/);
  });
});

describe('PORTAL_URL', () => {
  it('wins over the policy\'s portal, and must be an http(s) URL', () => {
    const text = 'channels: {defaults: {"*": [in-app]}}\nquietHours: {start: "21:00", end: "07:00"}\nteams: {}\nlinks: {portalUrl: https://portal.example, validDays: 7}';
    const saved = process.env.PORTAL_URL;
    try {
      process.env.PORTAL_URL = 'http://localhost:8080/';
      assert.equal(parsePolicy(text, 't').links.portalUrl, 'http://localhost:8080');
      process.env.PORTAL_URL = 'portal';
      assert.throws(() => parsePolicy(text, 't'), /PORTAL_URL must be an http\(s\) URL/);
      delete process.env.PORTAL_URL;
      assert.equal(parsePolicy(text, 't').links.portalUrl, 'https://portal.example');
    } finally {
      if (saved === undefined) delete process.env.PORTAL_URL; else process.env.PORTAL_URL = saved;
    }
  });
});
