// The dead-letter console in a real browser: Debian's chromium (npm test installs it once per run and hands
// its path over as TEST_CHROMIUM) driven by playwright-core, against the whole bundle as npm start runs it.
// Poison events go in the way they do in production (records on booking-requests that the booking consumer
// refuses, dead-lettered by the KafkaSource); an operator signs in, filters, finds the group, redrives it after
// the fix and sees it resolved, and the fix's effect happens once. Screenshots of the run are kept in
// test-results/console/ (docs/console/ holds a set for the README).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { signToken, type Grant } from '../functions/shared/auth';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { resetDatabase, seedCatalogue, createSlot, call, eventually, bundleIdle, freePort } from './support/fixtures';

const ROOT = path.join(__dirname, '..');
const SHOTS = path.join(ROOT, 'test-results', 'console');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const staffWith = (sub: string, grants: Grant[]) => signToken({ sub, role: 'staff', grants, exp: Math.floor(Date.now() / 1000) + 3600 });

describe('the dead-letter console in a browser (chromium)', function () {
  this.timeout(180_000);
  let bundle: Bundle;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** What the page itself complained about: script errors, refused resources, CSP violations. */
  let complaints: string[];
  let origins: string | undefined;

  before(async () => {
    const executablePath = process.env.TEST_CHROMIUM;
    assert.ok(executablePath, 'TEST_CHROMIUM is set by npm test (Debian\'s chromium, installed if missing)');
    mkdirSync(SHOTS, { recursive: true });
    bundle = await new Bundle({ port: 0, schedules: false }).start();
    // The console's own origin is a portal origin (its POSTs carry it), as portal-origins says in the cluster.
    origins = process.env.PORTAL_ORIGINS;
    process.env.PORTAL_ORIGINS = bundle.url;
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    if (origins === undefined) delete process.env.PORTAL_ORIGINS;
    else process.env.PORTAL_ORIGINS = origins;
    await browser?.close();
    await bundle?.stop();
  });
  beforeEach(async () => {
    await resetDatabase();
    await seedCatalogue();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    complaints = [];
    page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') complaints.push(`console: ${msg.text()} (${msg.location().url})`); });
  });
  afterEach(async function () {
    // A failure leaves a picture of what the operator would have seen.
    if (this.currentTest?.state === 'failed') await page.screenshot({ path: path.join(SHOTS, `failed-${this.currentTest.title.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
    await context?.close();
  });

  // The whole page, or (a modal dialog open) what the operator sees of it.
  const shot = (name: string, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });

  /** A record on booking-requests, as another system would put it there (the gateway's Kafka REST stand-in). */
  async function produce(event: { type: string; data: unknown; id?: string }) {
    const res = await call(`${bundle.url}/topics/booking-requests`, {
      raw: JSON.stringify({ specversion: '1.0', source: '/patient-booking/booking-sync', id: event.id ?? randomUUID(), datacontenttype: 'application/json', ...event }),
      headers: { 'content-type': 'application/cloudevents+json' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
  }

  async function signIn(token: string) {
    await page.goto(`${bundle.url}/dead-letters`);
    await page.getByLabel('Staff token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('an operator filters, finds the group, redrives it after the fix (dry run, then confirm) and sees it resolved; the fix takes effect once', async () => {
    // Three cancellations that arrived before the bookings they cancel (the patient-booking system replayed
    // them out of order): the booking consumer refuses each (422, no such booking), and they are parked.
    const slot = await createSlot({ capacity: 5 });
    const cancels = [1, 2, 3].map((n) => ({ bookingId: randomUUID(), patientId: `patient-late-${n}` }));
    for (const c of cancels) await produce({ type: 'com.medlab.booking.cancel-requested', data: { ...c, reason: 'patient asked by phone' } });
    // And an unrelated poison (a legacy slot id) in a group of its own, for the filter to leave out.
    await produce({ type: 'com.medlab.booking.requested', data: { requestId: 'legacy-1', patientId: 'patient-legacy', slotId: 'legacy-slot-17' } });
    await bundleIdle(bundle);
    // Meanwhile the first patient's next request (same record key) went through: the dry run must say so.
    const other = await createSlot({ capacity: 5 });
    await produce({ type: 'com.medlab.booking.requested', data: { requestId: 'after-1', patientId: cancels[0].patientId, slotId: other.id } });
    await bundleIdle(bundle);
    const parked = await eventually(async () => {
      const rows = await db().deadLetter.findMany({ where: { eventType: 'com.medlab.booking.cancel-requested' } });
      return rows.length === 3 && rows.every((r) => r.status === 'parked') && rows;
    }, 'three parked letters');
    assert.equal(new Set(parked.map((r) => r.fingerprint)).size, 1, 'alike failures make one group');

    await signIn(staffWith('ops-anna', ['operator', 'phi']));
    const group = page.getByRole('radio', { name: /Select group com\.medlab\.booking\.cancel-requested .*\(HTTP 422\), 3 letters/ });
    await group.waitFor();
    await page.getByRole('radio', { name: /Select group com\.medlab\.booking\.requested .*\(HTTP 400\), 1 letter$/ }).waitFor();
    await page.locator('#letters tbody tr').first().waitFor();
    await shot('01-signed-in');

    // Filter: only the cancellations.
    await page.getByLabel('Event type').fill('com.medlab.booking.cancel-requested');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('#letters tbody tr');
    await eventually(async () => (await rows.count()) === 3 && (await page.locator('#letters tbody tr[data-status="parked"]').count()) === 3, 'the three parked cancellations listed');
    await shot('02-filtered');

    // One letter: masked until asked, then unmasked with the note that the view is recorded.
    await page.getByRole('button', { name: /^Open letter / }).first().click();
    await page.locator('#mask-note', { hasText: 'masked' }).waitFor();
    const masked = await page.locator('#detail-event').innerText();
    assert.doesNotMatch(masked, /patient asked by phone/);
    assert.match(masked, /"bookingId": "[0-9a-f-]{36}"/, 'identifiers stay readable when masked');
    await page.getByRole('button', { name: 'Show unmasked data (recorded)' }).click();
    await page.locator('#mask-note', { hasText: 'has been recorded' }).waitFor();
    assert.match(await page.locator('#detail-event').innerText(), /patient asked by phone/);
    await shot('03-letter-unmasked');
    const views = await db().$queryRawUnsafe<Array<{ viewer: string }>>('SELECT viewer FROM dead_letter.letter_view');
    assert.deepEqual(views.map((v) => v.viewer), ['staff:ops-anna'], 'the unmasked view is recorded under the operator');
    // Nothing of the letter in the address bar or in storage: only the token, in this tab.
    assert.equal(new URL(page.url()).search, '');
    const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length }));
    assert.deepEqual(stored, { session: ['dead-letter-console.token'], local: 0 });
    await page.getByRole('button', { name: 'Close letter' }).click();

    // The fix: the bookings arrive (the replay's missing half), so the cancellations can now be applied.
    for (const c of cancels) await db().booking.create({ data: { id: c.bookingId, slotId: slot.id, patientId: c.patientId, status: 'confirmed' } });
    await db().slot.update({ where: { id: slot.id }, data: { booked: 3 } });

    // Redrive the group: the dry run says what goes where; confirmed, the task runs to its end.
    await group.check();
    await page.getByRole('button', { name: 'Redrive group…' }).click();
    const dialog = page.getByRole('dialog', { name: /Redrive the group/ });
    await dialog.getByText('3 letter(s) would be republished').waitFor();
    assert.equal(await dialog.getByRole('list', { name: 'Topics' }).innerText(), 'booking-requests: 3');
    const plan = await dialog.locator('#plan-letters tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(plan.map((r) => r[2]).sort(), cancels.map((c) => c.patientId), 'each goes back with its record key (the patient), so per-key order holds');
    const warned = plan.filter((r) => r[4] !== '');
    assert.deepEqual(warned.map((r) => r[2]), [cancels[0].patientId], 'the key with a newer event carries a warning');
    assert.match(await dialog.locator('#plan-warnings').innerText(), /1 letter\(s\) carry a warning/);
    await shot('04-redrive-dry-run', false);
    await dialog.getByRole('button', { name: 'Confirm redrive' }).click();
    await eventually(async () => {
      await bundleIdle(bundle);
      return /completed, 3 of 3 sent/.test(await dialog.locator('#redrive-progress-text').innerText());
    }, 'the redrive task to complete');
    await shot('05-redrive-completed', false);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Resolved in the console, and each booking cancelled exactly once.
    await eventually(async () => (await page.locator('#letters tbody tr[data-status="resolved"]').count()) === 3, 'the three letters shown resolved');
    await shot('06-resolved');
    await bundleIdle(bundle);
    const letters = await db().deadLetter.findMany({ where: { eventType: 'com.medlab.booking.cancel-requested' } });
    assert.deepEqual(letters.map((l) => [l.status, l.resolution]), [['resolved', 'redrive'], ['resolved', 'redrive'], ['resolved', 'redrive']]);
    const bookings = await db().booking.findMany({ where: { id: { in: cancels.map((c) => c.bookingId) } } });
    assert.deepEqual(bookings.map((b) => b.status), ['cancelled', 'cancelled', 'cancelled']);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 0, 'each place released once');
    const cancelled = memoryBus.records('booking-events').filter((r) => r.headers.ce_type === 'com.medlab.booking.cancelled');
    assert.equal(cancelled.length, 3, 'one booking.cancelled per booking');
    assert.deepEqual(complaints, []);
  });

  it('bulk by group: a retry that fails the same way is reported and counted, then the group is discarded with a reason', async () => {
    // A legacy producer's requests name slots by their old ids: they can never succeed here.
    for (const n of [1, 2]) await produce({ type: 'com.medlab.booking.requested', data: { requestId: `legacy-${n}`, patientId: `patient-legacy-${n}`, slotId: `legacy-slot-${n}` } });
    await bundleIdle(bundle);
    await eventually(async () => (await db().deadLetter.count({ where: { status: 'parked' } })) === 2, 'two parked letters');

    await signIn(staffWith('ops-chi', ['operator']));
    await page.getByRole('radio', { name: /Select group com\.medlab\.booking\.requested .*\(HTTP 400\), 2 letters$/ }).check();
    await page.getByRole('button', { name: 'Retry group' }).click();
    await page.getByRole('status').filter({ hasText: 'Retry of the group: 0 delivered, 2 failed, 0 skipped.' }).waitFor();
    const history = await db().$queryRawUnsafe<Array<{ kind: string; outcome: string; by: string }>>("SELECT kind, outcome, by FROM dead_letter.attempt WHERE kind = 'retry' ORDER BY id");
    assert.deepEqual(history.map((h) => [h.kind, h.outcome, h.by]), [['retry', 'failed', 'staff:ops-chi'], ['retry', 'failed', 'staff:ops-chi']], 'each retry is one more attempt, by the operator');

    // Discarding needs a reason; with one, the whole group goes.
    await page.getByRole('button', { name: 'Discard group' }).click();
    await page.getByRole('alert').getByText('Reason required').waitFor();
    await page.getByLabel('Reason to park or discard the group').fill('legacy booking form retired; patients re-booked by phone');
    await page.getByRole('button', { name: 'Discard group' }).click();
    await page.getByRole('status').filter({ hasText: 'Discarded 2 letter(s) of the group.' }).waitFor();
    await shot('09-group-discarded');
    const letters = await db().deadLetter.findMany();
    assert.deepEqual(letters.map((l) => [l.status, l.statusReason, l.statusBy]), [1, 2].map(() => ['discarded', 'legacy booking form retired; patients re-booked by phone', 'staff:ops-chi']));
    assert.deepEqual(complaints, []);
  });

  it("a token without the operator grant, or no valid token, is refused with the problem's own detail", async () => {
    await signIn(staffWith('staff-no-grant', []));
    const problem = page.getByRole('alert');
    await problem.getByText('Forbidden (403)').waitFor();
    assert.match(await problem.innerText(), /operator grant/);
    assert.ok(await page.getByLabel('Staff token').isVisible(), 'the sign-in stays');
    await shot('07-forbidden');

    await page.getByLabel('Staff token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await problem.getByText('(401)').waitFor();
    assert.match(await problem.innerText(), /sign in again/);
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), [], 'a refused token is not kept');
    // The browser reports the refused API calls themselves (401, 403); nothing else went wrong on the page.
    assert.deepEqual(complaints.filter((c) => !/status of 40[13]/.test(c)), []);
  });

  it('an outage (503 problem+json with Retry-After) is shown with its detail, the token kept, and Refresh recovers', async () => {
    // The API's answer while its database is down, as /openapi.json documents it (test/openapi-statuses.test.ts
    // drives the real one); the browser is given it for the summary only.
    await page.route('**/api/dead-letters/summary?*', (route) => route.fulfill({
      status: 503, contentType: 'application/problem+json', headers: { 'retry-after': '5' },
      body: JSON.stringify({ type: 'https://docs.medlab.example/problems/service-unavailable', title: 'Service Unavailable', status: 503, detail: 'the database is not answering; retry shortly' }),
    }));
    await signIn(staffWith('ops-binh', ['operator']));
    const problem = page.getByRole('alert');
    await problem.getByText('Service Unavailable (503)').waitFor();
    assert.match(await problem.innerText(), /the database is not answering; retry shortly[\s\S]*try again in 5 s/);
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), ['dead-letter-console.token'], 'an outage does not sign the operator out');
    await shot('08-unavailable');
    await page.unroute('**/api/dead-letters/summary?*');
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await problem.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
  });
});

describe('npm start: a fresh laptop shows the console with its demo letter (embedded database)', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let banner = '';
  let browser: Browser;

  before(async () => {
    // npm start itself, as a new user runs it: PGlite (in memory here), the in-process bus, default origins.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(await freePort()), PGLITE_DIR: 'memory', LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' };
    for (const k of ['DATABASE_URL', 'KAFKA_BROKERS', 'PORTAL_ORIGINS', 'SEED_DEMO']) delete env[k];
    child = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/local-runtime.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => { banner += c; });
    child.stderr!.resume();
    await eventually(() => /Dead-letter console: \S+/.test(banner) || child.exitCode !== null, 'the npm start banner', 150_000, 250);
    assert.equal(child.exitCode, null, `npm start exited: ${banner}`);
    browser = await chromium.launch({ executablePath: process.env.TEST_CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('the banner gives the console and an operator token; signed in, the demo poison event is a parked letter with its reason', async () => {
    const url = /Dead-letter console: (\S+)/.exec(banner)![1];
    const operator = /export OPERATOR=(\S+)/.exec(banner)?.[1];
    assert.ok(operator, 'the banner prints an operator token');
    assert.match(url, /^http:\/\/localhost:\d+\/dead-letters$/);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const complaints: string[] = [];
    page.on('console', (msg) => { if (msg.type() === 'error') complaints.push(msg.text()); });
    await page.goto(url);
    await page.getByLabel('Staff token').fill(operator!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The demo letter reached the intake through the KafkaSource's dead-letter sink before the banner was printed.
    await page.getByRole('radio', { name: 'Select group com.medlab.booking.requested (HTTP 400), 1 letter' }).check();
    await page.getByRole('button', { name: /^Open letter .*com\.medlab\.booking\.requested, parked/ }).click();
    await page.locator('#detail-fields', { hasText: 'booking-consumer-source' }).waitFor();
    assert.match(await page.locator('#detail-fields').innerText(), /data\/slotId: must match format/);
    await page.getByRole('button', { name: 'Show unmasked data (recorded)' }).click();
    await page.locator('#mask-note', { hasText: 'has been recorded' }).waitFor();
    // Every kind of call the console makes works on the embedded database: a dry run, and settling the group.
    await page.getByRole('button', { name: 'Redrive group…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('1 letter(s) would be republished').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('Reason to park or discard the group').fill('demo letter, seen');
    await page.getByRole('button', { name: 'Discard group' }).click();
    await page.getByRole('status').filter({ hasText: 'Discarded 1 letter(s) of the group.' }).waitFor();
    assert.deepEqual(complaints, []);
  });
});
