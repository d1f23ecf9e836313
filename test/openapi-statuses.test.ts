// /openapi.json tells the truth: every status each route can answer is driven here, once, through the
// function as the portal reaches it, and the document lists exactly those statuses, no more and no fewer.
// Each answer's body is checked against the schema the document publishes for that status (views with no
// field left undocumented; refusals as problem+json).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { statusesOf } from '../functions/shared/http';
import { db } from '../functions/shared/db';
import { idempotencyLock } from '../functions/shared/idempotency';
import { branchDay } from '../functions/booking-queue/calendar';
import { system } from '../functions/booking-queue/system';
import { system as appointmentSystem } from '../functions/appointment/system';
import { seedClinic, at, localDay, adminToken } from './support/clinic';
import { resetDatabase, seedCatalogue, createSlot, hoursFromNow, call, patientToken, staffToken, token, holdAdvisoryLock, BRANCH, type Answer } from './support/fixtures';
import { insertLetter, operatorToken } from './support/dead-letters';
import { deadLetter, produce } from './support/redrive';
import { createNotice } from './support/notification-api';
import { seedReport, resultStaffToken } from './support/reports';
import { channelSettingsFrom } from '../functions/notification/channels/settings';
import { twilioSignature } from '../functions/notification/channels/twilio-signature';
import { system as patientBookingSystem } from '../functions/patient-booking/system';
import { seedPackage, PACKAGE } from './support/package-bookings';
import { releasedResult, seedTestCatalogue } from './support/catalogue';

type Send = (url: string) => Promise<Answer>;
type Drivers = Record<string, Record<number, Send>>;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);

/** The schema with every object closed: a view may carry only what the document says it carries. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const s = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, closed(ps)])) : closed(v)]));
  if ((s as { properties?: unknown }).properties && !('additionalProperties' in s)) (s as Record<string, unknown>).additionalProperties = false;
  return s;
}

const patient = patientToken('p-1');
const staff = staffToken();
/** Staff holding the operator grant: the dead-letter routes refuse other staff before reading anything. */
const operator = operatorToken();
const service = token('service', 'patient-booking');
const json = (method: string, body: unknown, tok?: string, headers: Record<string, string> = {}): Send => (url) =>
  call(url, { method, body, token: tok, headers });
const get = (query: Record<string, string>, tok?: string): Send => (url) => call(url, { query, token: tok });
/** The SMS provider's status callback, signed as the provider signs it (this process's laptop provider settings). */
const smsCallback = (status: string): Send => (url) => {
  const { sms } = channelSettingsFrom(process.env);
  const deliveryId = randomUUID();
  const params = { MessageSid: 'SM0123456789abcdef0123456789abcdef', MessageStatus: status };
  const signature = twilioSignature(sms.authToken, `${sms.callbackBase}?deliveryId=${deliveryId}`, params);
  return call(url, { query: { deliveryId }, raw: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } });
};

describe('/openapi.json documents every status each route answers', function () {
  this.timeout(120_000);
  let bundle: Bundle;
  let doc: any;
  const seen = new Map<string, Set<number>>();

  before(async () => {
    bundle = await new Bundle({ port: 0, schedules: false }).start();
    doc = await (await fetch(`${bundle.url}/openapi.json`)).json();
  });
  after(async () => bundle.stop());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  /** Sends, records the status, and checks the body against the document's schema for it. */
  async function drive(name: string, expected: number, send: Send): Promise<Answer> {
    const fn = bundle.fn(name);
    const res = await send(fn.url);
    assert.equal(res.status, expected, `${name}: expected ${expected}, got ${res.status} ${JSON.stringify(res.body)}`);
    const op = operation(name);
    const documented = op.responses[String(expected)];
    assert.ok(documented, `${name} answered ${expected}, which /openapi.json does not document`);
    const [type, media] = Object.entries(documented.content ?? {})[0] ?? [];
    if (media) {
      const schema = (media as { schema: { $ref?: string } }).schema.$ref ? doc.components.schemas.Problem : (media as { schema: unknown }).schema;
      assert.match(res.headers.get('content-type') ?? '', new RegExp(type.replace('+', '\\+')));
      const validate = ajv.compile(closed(schema) as object);
      assert.ok(validate(res.body), `${name} ${expected}: the body does not match its documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body)}`);
    }
    if (!seen.has(name)) seen.set(name, new Set());
    seen.get(name)!.add(expected);
    return res;
  }

  function operation(name: string) {
    for (const methods of Object.values(doc.paths) as Array<Record<string, any>>) for (const op of Object.values(methods)) if (op.operationId === name) return op;
    throw new Error(`${name} is not in /openapi.json`);
  }

  it('statuses every route answers alike: 400, 401, 403, 405, 413, 415', async () => {
    for (const f of bundle.functions.filter((x) => x.kind === 'route')) {
      const spec = f.route!;
      const tok = spec.auth === 'public' ? undefined : spec.grant ? operatorToken([spec.grant]) : spec.auth.includes('patient') ? patient : spec.auth.includes('staff') ? staff : service;
      await drive(f.name, 400, (url) => call(`${url}/?method=x`, { method: spec.method, token: tok, ...(spec.body ? { body: {} } : {}) }));
      if (spec.auth !== 'public') await drive(f.name, 401, (url) => call(url, { method: spec.method, ...(spec.body ? { body: {} } : {}) }));
      await drive(f.name, 403, (url) => call(url, { method: spec.method, token: tok, headers: { origin: 'https://evil.example' }, ...(spec.body ? { body: {} } : {}) }));
      await drive(f.name, 405, (url) => call(url, { method: spec.method === 'GET' ? 'POST' : 'GET', token: tok }));
      if (spec.body) {
        await drive(f.name, 413, (url) => call(url, { method: 'POST', token: tok, body: { padding: 'x'.repeat(70 * 1024) } }));
        await drive(f.name, 415, (url) => call(url, { method: 'POST', token: tok, raw: '{}', headers: { 'content-type': 'text/plain' } }));
      }
    }
  });

  it("each route's own answers: views, not found, conflicts, refusals, replays", async () => {
    const slot = await createSlot({ capacity: 1 });
    const other = await createSlot({ capacity: 3 });
    const full = await createSlot({ capacity: 1 });
    const missing = randomUUID();
    const today = branchDay(new Date(), 'Asia/Ho_Chi_Minh');
    const soon = await createSlot({ startsAt: hoursFromNow(0.5), capacity: 5 });

    await drive('branches', 200, get({}));
    await drive('dead-letter-console', 200, get({}));
    await drive('notification-sms-callback', 204, smsCallback('delivered'));
    await drive('notification-sms-callback', 400, smsCallback('received'));
    await drive('availability', 200, get({ branchId: BRANCH, from: today, to: today }));
    await drive('availability', 404, get({ branchId: 'nowhere', from: today, to: today }));
    await drive('queue-board', 200, get({ branchId: BRANCH }));
    await drive('queue-board', 404, get({ branchId: 'nowhere' }));

    const booked = await drive('book-slot', 201, json('POST', { slotId: slot.id }, patient, { 'idempotency-key': 'k1' }));
    await drive('book-slot', 201, json('POST', { slotId: slot.id }, patient, { 'idempotency-key': 'k1' }));
    await drive('book-slot', 422, json('POST', { slotId: other.id }, patient, { 'idempotency-key': 'k1' }));
    await drive('book-slot', 404, json('POST', { slotId: missing }, patient));
    await drive('book-slot', 409, json('POST', { slotId: slot.id }, patientToken('p-2')));
    const bookingId = booked.body.bookingId;

    await drive('bookings', 200, get({}, patient));
    await drive('bookings', 404, get({ bookingId: missing }, patient));

    await drive('booking-reschedule', 200, json('POST', { bookingId, slotId: other.id }, patient));
    await drive('booking-reschedule', 404, json('POST', { bookingId: missing, slotId: other.id }, patient));
    await drive('booking-reschedule', 409, json('POST', { bookingId, slotId: other.id }, patient));

    const checkup = await createSlot({ serviceId: 'check-up' });
    const pending = await call(bundle.fn('book-slot').url, { token: patientToken('p-4'), body: { slotId: checkup.id } });
    await drive('booking-status', 200, json('POST', { bookingId: pending.body.bookingId, status: 'confirmed' }, staff));
    await drive('booking-status', 404, json('POST', { bookingId: missing, status: 'confirmed' }, staff));
    await drive('booking-status', 409, json('POST', { bookingId, status: 'completed' }, staff));

    await drive('booking-cancel', 200, json('POST', { bookingId }, patient));
    await drive('booking-cancel', 404, json('POST', { bookingId: missing }, patient));
    await drive('booking-cancel', 409, json('POST', { bookingId }, patient));

    const opened = await drive('slots-create', 201, json('POST', { branchId: BRANCH, serviceId: 'blood-draw', startsAt: hoursFromNow(300).toISOString(), capacity: 2 }, staff, { 'idempotency-key': 's1' }));
    await drive('slots-create', 422, json('POST', { branchId: BRANCH, serviceId: 'blood-draw', startsAt: hoursFromNow(301).toISOString(), capacity: 2 }, staff, { 'idempotency-key': 's1' }));
    await drive('slots-create', 404, json('POST', { branchId: BRANCH, serviceId: 'nothing', startsAt: hoursFromNow(302).toISOString(), capacity: 2 }, staff));
    await drive('slots-create', 409, json('POST', { branchId: BRANCH, serviceId: 'blood-draw', startsAt: opened.body.startsAt, capacity: 2 }, staff));

    const week = { branchId: BRANCH, serviceId: 'blood-draw', from: branchDay(hoursFromNow(400), 'Asia/Ho_Chi_Minh'), to: branchDay(hoursFromNow(400), 'Asia/Ho_Chi_Minh'), weekdays: [1, 2, 3, 4, 5, 6, 7], times: ['09:00'], capacity: 3 };
    await drive('slots-generate', 201, json('POST', week, staff, { 'idempotency-key': 'g1' }));
    await drive('slots-generate', 422, json('POST', { ...week, times: ['10:00'] }, staff, { 'idempotency-key': 'g1' }));
    await drive('slots-generate', 404, json('POST', { ...week, branchId: 'nowhere' }, service));

    await drive('slot-status', 200, json('POST', { slotId: full.id, status: 'closed' }, staff));
    await drive('slot-status', 404, json('POST', { slotId: missing, status: 'closed' }, staff));

    // The day: a booking for a slot within the hour, checked in, called, served.
    const visit = await call(bundle.fn('book-slot').url, { token: patientToken('p-3'), body: { slotId: soon.id } });
    const ticket = await drive('check-in', 201, json('POST', { branchId: BRANCH, bookingId: visit.body.bookingId }, patientToken('p-3'), { 'idempotency-key': 'c1' }));
    await drive('check-in', 422, json('POST', { branchId: BRANCH, bookingId: visit.body.bookingId, serviceId: 'blood-draw' }, patientToken('p-3'), { 'idempotency-key': 'c1' }));
    await drive('check-in', 404, json('POST', { branchId: BRANCH, bookingId: missing }, patient));
    await drive('check-in', 409, json('POST', { branchId: BRANCH, bookingId: visit.body.bookingId }, patientToken('p-3')));

    await drive('ticket-status', 200, get({ ticketId: ticket.body.ticketId }, patientToken('p-3')));
    await drive('ticket-status', 404, get({ ticketId: ticket.body.ticketId }, patient));

    await drive('call-next', 200, json('POST', { branchId: BRANCH, serviceId: 'blood-draw', counter: '1' }, staff));
    await drive('call-next', 404, json('POST', { branchId: BRANCH, serviceId: 'nothing', counter: '1' }, staff));

    await drive('ticket-action', 200, json('POST', { ticketId: ticket.body.ticketId, action: 'serve' }, staff));
    await drive('ticket-action', 404, json('POST', { ticketId: missing, action: 'serve' }, staff));
    await drive('ticket-action', 409, json('POST', { ticketId: ticket.body.ticketId, action: 'skip' }, staff));

    // The dead-letter API, for an operator who may also see event data unmasked.
    const ops = operatorToken(['operator', 'phi']);
    const letter = await insertLetter();
    await drive('dead-letter-list', 200, get({ status: 'open' }, ops));
    await drive('dead-letter-detail', 200, get({ id: letter.id, unmasked: 'true' }, ops));
    await drive('dead-letter-detail', 404, get({ id: missing }, ops));
    await drive('dead-letter-summary', 200, get({}, ops));
    await drive('dead-letter-settle', 200, json('POST', { action: 'park', reason: 'the slot was deleted', letterIds: [letter.id] }, ops));
    // The dead-letter routes: a retry of a group with nothing open or parked delivers nothing.
    await drive('dead-letter-retry', 200, json('POST', { group: 'no-such-group' }, operator));

    // Redrives: a dry run, a task started, watched and cancelled.
    const letterId = await deadLetter(bundle.fn('dead-letter-intake').url, produce([{ key: 'p-1', partition: 0 }])[0]);
    await drive('dead-letter-redrive', 200, json('POST', { letterIds: [letterId], dryRun: true }, operator));
    await drive('dead-letter-redrive', 404, json('POST', { letterIds: [missing] }, operator));
    const redrive = await drive('dead-letter-redrive', 202, json('POST', { letterIds: [letterId] }, operator));
    await drive('dead-letter-redrive', 409, json('POST', { letterIds: [letterId] }, operator));
    await drive('dead-letter-redrives', 200, get({}, operator));
    await drive('dead-letter-redrives', 200, get({ taskId: redrive.body.task.id }, operator));
    await drive('dead-letter-redrives', 404, get({ taskId: missing }, operator));
    await drive('dead-letter-redrive-cancel', 404, json('POST', { taskId: missing }, operator));
    // A task whose runner lives elsewhere (the one just started may already have finished).
    const elsewhere = await db().redriveTask.create({ data: { id: randomUUID(), selection: { group: 'g1' }, ratePerSecond: 1, total: 0, createdBy: 'staff:ops-1', leaseOwner: 'elsewhere', leaseUntil: hoursFromNow(1) } });
    await drive('dead-letter-redrive-cancel', 200, json('POST', { taskId: elsewhere.id }, operator));
    await drive('dead-letter-redrive-cancel', 409, json('POST', { taskId: elsewhere.id }, operator));

    // An idempotent route's key held by a request in flight: 409 with Retry-After.
    for (const [name, body, tok] of [
      ['book-slot', { slotId: other.id }, patient], ['slots-create', { branchId: BRANCH, serviceId: 'blood-draw', startsAt: hoursFromNow(310).toISOString(), capacity: 1 }, staff],
      ['slots-generate', week, staff], ['check-in', { branchId: BRANCH }, staff],
    ] as const) {
      const subject = tok === patient ? 'patient:p-1' : `staff:staff-${BRANCH}`;
      const release = await holdAdvisoryLock(...idempotencyLock({ system, route: name, caller: subject, key: 'busy' }));
      try {
        await drive(name, 409, json('POST', body, tok, { 'idempotency-key': 'busy' }));
      } finally { await release(); }
    }
  });

  it("the appointment routes' own answers", async () => {
    await seedClinic();
    const missing = randomUUID();
    const admin = adminToken();
    const visit = (start: Date, visitTypeId = 'gp-consult') => ({ visitTypeId, branchId: BRANCH, start: start.toISOString() });

    await drive('appointment-visit-types', 200, get({}));
    await drive('appointment-availability', 200, get({ visitTypeId: 'annual-checkup', branchId: BRANCH, from: localDay(2) }, patient));
    await drive('appointment-availability', 404, get({ visitTypeId: 'nope', branchId: BRANCH, from: localDay(2) }, patient));

    const held = await drive('appointment-hold', 201, json('POST', visit(at(2, '09:00')), patient, { 'idempotency-key': 'h1' }));
    await drive('appointment-hold', 201, json('POST', visit(at(2, '09:00')), patient, { 'idempotency-key': 'h1' }));
    await drive('appointment-hold', 422, json('POST', visit(at(2, '10:00')), patient, { 'idempotency-key': 'h1' }));
    await drive('appointment-hold', 404, json('POST', visit(at(2, '10:00'), 'nope'), patient));
    await drive('appointment-hold', 201, json('POST', visit(at(2, '11:00'), 'annual-checkup'), patientToken('p-2')));
    await drive('appointment-hold', 409, json('POST', visit(at(2, '11:00'), 'annual-checkup'), patientToken('p-3')));

    const booked = await drive('appointment-book', 201, json('POST', { appointmentId: held.body.appointmentId }, patient, { 'idempotency-key': 'b1' }));
    await drive('appointment-book', 201, json('POST', { appointmentId: held.body.appointmentId }, patient, { 'idempotency-key': 'b1' }));
    await drive('appointment-book', 422, json('POST', visit(at(2, '13:00')), patient, { 'idempotency-key': 'b1' }));
    await drive('appointment-book', 404, json('POST', { appointmentId: missing }, patient));
    await drive('appointment-book', 409, json('POST', { appointmentId: held.body.appointmentId }, patient));
    const appointmentId = booked.body.appointmentId;

    await drive('appointment-list', 200, get({}, patient));
    await drive('appointment-detail', 200, get({ appointmentId }, patient));
    await drive('appointment-detail', 404, get({ appointmentId: missing }, patient));
    await drive('appointment-day', 200, get({ branchId: BRANCH, date: localDay(2) }, staff));
    await drive('appointment-resources', 200, get({ branchId: BRANCH }, staff));

    await drive('appointment-reschedule', 200, json('POST', { appointmentId, start: at(2, '14:00').toISOString() }, patient));
    await drive('appointment-reschedule', 404, json('POST', { appointmentId: missing, start: at(2, '14:00').toISOString() }, patient));
    await drive('appointment-modify', 200, json('POST', { appointmentId, notes: 'wheelchair access' }, patient));
    await drive('appointment-modify', 404, json('POST', { appointmentId: missing, notes: 'x' }, patient));
    const other = await call(bundle.fn('appointment-book').url, { token: patientToken('p-4'), body: visit(at(3, '09:00')) });
    await drive('appointment-cancel', 200, json('POST', { appointmentId: other.body.appointmentId }, patientToken('p-4')));
    await drive('appointment-cancel', 404, json('POST', { appointmentId: missing }, patient));
    await drive('appointment-cancel', 409, json('POST', { appointmentId: other.body.appointmentId }, patientToken('p-4')));
    await drive('appointment-reschedule', 409, json('POST', { appointmentId: other.body.appointmentId, start: at(3, '10:00').toISOString() }, patientToken('p-4')));
    await drive('appointment-modify', 409, json('POST', { appointmentId: other.body.appointmentId, visitTypeId: 'annual-checkup' }, patientToken('p-4')));

    await drive('lab-orders', 201, json('POST', { appointmentId, accession: 'ACC-1' }, staff));
    await drive('lab-orders', 200, json('POST', { appointmentId, accession: 'ACC-1' }, staff));
    await drive('lab-orders', 404, json('POST', { appointmentId: missing, accession: 'ACC-2' }, staff));
    await drive('lab-orders', 409, json('POST', { appointmentId: other.body.appointmentId, accession: 'ACC-1' }, staff));

    await drive('appointment-status', 200, json('POST', { appointmentId, status: 'arrived' }, staff));
    await drive('appointment-status', 404, json('POST', { appointmentId: missing, status: 'arrived' }, staff));
    await drive('appointment-status', 409, json('POST', { appointmentId, status: 'noshow' }, staff));

    const device = { branchId: BRANCH, kind: 'device', name: 'Ultrasound 9', capabilities: ['ultrasound'], hours: { 1: [['08:00', '12:00']] } };
    const made = await drive('appointment-resource-save', 201, json('POST', device, admin));
    await drive('appointment-resource-save', 200, json('POST', { ...device, resourceId: made.body.resource.resourceId, active: false }, admin));
    await drive('appointment-resource-save', 404, json('POST', { ...device, resourceId: missing }, admin));
    const closing = { resourceId: made.body.resource.resourceId, kind: 'closed', start: at(4, '08:00').toISOString(), end: at(4, '10:00').toISOString() };
    await drive('appointment-exception-save', 201, json('POST', closing, admin));
    await drive('appointment-exception-save', 404, json('POST', { ...closing, resourceId: missing }, admin));
    const echo = { visitTypeId: 'echo', name: 'Echocardiogram', durationMinutes: 45, requirements: [{ kind: 'device', capability: 'ultrasound' }] };
    await drive('appointment-visit-type-save', 201, json('POST', echo, admin));
    await drive('appointment-visit-type-save', 200, json('POST', { ...echo, durationMinutes: 60 }, admin));

    for (const name of ['appointment-hold', 'appointment-book'] as const) {
      const release = await holdAdvisoryLock(...idempotencyLock({ system: appointmentSystem, route: name, caller: 'patient:p-1', key: 'busy' }));
      try {
        await drive(name, 409, json('POST', visit(at(5, '09:00')), patient, { 'idempotency-key': 'busy' }));
      } finally { await release(); }
    }
  });

  it("the notification routes' own answers", async () => {
    const missing = randomUUID();
    const notice = await createNotice({ patientId: 'p-1', status: 'done', deliveries: [{ channel: 'in-app', status: 'delivered' }, { channel: 'sms', status: 'failed', attempts: 2, lastError: '30003', history: [{ status: 'failed', source: 'provider:cb-1', errorCode: '30003' }] }] });

    await drive('notification-inbox', 200, get({}, patient));
    await drive('notification-inbox', 400, get({ cursor: 'bm90LWEtY3Vyc29y' }, patient));
    await drive('notification-inbox-count', 200, get({}, patient));
    await drive('notification-inbox-mark', 200, json('POST', { action: 'read', itemIds: [notice.item.id] }, patient));
    await drive('notification-inbox-mark', 404, json('POST', { action: 'read', itemIds: [missing] }, patient));

    await drive('notification-preference-save', 200, json('POST', { category: 'results', channels: ['in-app', 'email'], quietHours: { start: '22:00', end: '07:00' } }, patient));
    await drive('notification-preferences', 200, get({}, patient));

    const subscription = { endpoint: 'https://push.example.com/send/abc', keys: { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url'), auth: Buffer.alloc(16, 3).toString('base64url') } };
    await drive('notification-push-subscribe', 201, json('POST', subscription, patient));
    await drive('notification-push-subscribe', 200, json('POST', subscription, patient));
    await drive('notification-push-key', 200, get({}));

    await drive('notification-history', 200, get({ patientId: 'p-1' }, staff));
    await drive('notification-resend', 202, json('POST', { notificationId: notice.notification.id, channel: 'sms' }, staff, { 'idempotency-key': 'r1' }));
    await drive('notification-resend', 404, json('POST', { notificationId: missing }, staff));
    await drive('notification-resend', 409, json('POST', { notificationId: notice.notification.id, channel: 'sms' }, staff));
    await drive('notification-resend', 422, json('POST', { notificationId: notice.notification.id, channel: 'email' }, staff, { 'idempotency-key': 'r1' }));

    await drive('notification-template-preview', 200, get({ template: 'results-ready', language: 'en', variables: '{"link":"/r/1"}' }, staff));
    await drive('notification-template-preview', 404, get({ template: 'lottery-win' }, staff));

    await seedTestCatalogue();
    await db().patient.create({ data: { patientId: 'p-1', sex: 'male', birthDate: new Date('1974-03-15'), language: 'en' } });
    await releasedResult('p-1', 'HBA1C', 6.1, new Date());
    await drive('packages', 200, get({ test: '4548-4' }));
    await drive('recommendations', 200, get({}, patient));
    await drive('recommendations', 404, get({ patientId: 'nobody' }, staff));
  });

  it("the results routes' own answers", async () => {
    const missing = randomUUID();
    const phi = resultStaffToken(['phi']);
    const clinician = resultStaffToken(['clinician']);
    const observations = [{ code: 'GLU', loinc: '2345-7', value: 5.2, unit: 'mmol/L', low: 3.9, high: 5.5, flags: ['N'] }];
    const released = await seedReport({ patientId: 'p-1', accession: 'R-1', code: 'CHEM', status: 'amended', releaseState: 'released', version: 2, releasedVersions: [1, 2], earlier: { 1: [{ ...observations[0], value: 7.1, flags: ['H'] }] }, observations });
    const sensitive = await seedReport({ patientId: 'p-1', accession: 'R-2', code: 'HIV', status: 'final', releaseState: 'held', holdReason: 'sensitive', releaseDueAt: hoursFromNow(24), observations: [{ code: 'HIV', value: 'non-reactive' }] });
    const critical = await seedReport({ patientId: 'p-1', accession: 'R-3', code: 'K', status: 'final', releaseState: 'held', holdReason: 'critical', critical: true, observations: [{ code: 'K', value: 7.1, unit: 'mmol/L', flags: ['HH'] }] });
    const genetic = await seedReport({ patientId: 'p-1', accession: 'R-4', code: 'BRCA', status: 'final', releaseState: 'pending', observations: [{ code: 'BRCA1', value: 'pending' }] });
    await drive('results', 200, get({}, patient));
    await drive('results', 200, get({ patientId: 'p-1' }, phi));
    await drive('result-detail', 200, get({ reportId: released.id }, patient));
    await drive('result-detail', 200, get({ reportId: critical.id }, phi));
    await drive('result-detail', 404, get({ reportId: sensitive.id }, patient));
    await drive('result-trend', 200, get({ loinc: '2345-7' }, patient));
    await drive('results-held', 200, get({}, clinician));
    await drive('result-release', 200, json('POST', { reportId: sensitive.id, reason: 'reviewed' }, clinician));
    await drive('result-release', 409, json('POST', { reportId: sensitive.id, reason: 'reviewed' }, clinician));
    await drive('result-release', 404, json('POST', { reportId: missing, reason: 'reviewed' }, clinician));
    await drive('result-call', 200, json('POST', { reportId: critical.id, note: 'called' }, clinician));
    await drive('result-call', 409, json('POST', { reportId: critical.id }, clinician));
    await drive('result-call', 404, json('POST', { reportId: missing }, clinician));
    await drive('result-withhold', 200, json('POST', { reportId: genetic.id, reason: 'in person' }, clinician));
    await drive('result-withhold', 409, json('POST', { reportId: genetic.id, reason: 'in person' }, clinician));
    await drive('result-withhold', 404, json('POST', { reportId: missing, reason: 'in person' }, clinician));
    await drive('result-audit', 200, get({ reportId: released.id }, phi));
    await drive('result-audit', 404, get({ reportId: missing }, phi));
  });

  it("the package booking routes' own answers", async () => {
    const missing = randomUUID();
    await seedPackage();
    await seedPackage({ code: 'old-panel', withdrawn: true });
    const slot = { packageCode: PACKAGE, slotId: randomUUID() };
    const booked = await drive('package-book', 202, json('POST', slot, patient, { 'idempotency-key': 'pb1' }));
    await drive('package-book', 202, json('POST', slot, patient, { 'idempotency-key': 'pb1' }));
    await drive('package-book', 422, json('POST', { ...slot, slotId: missing }, patient, { 'idempotency-key': 'pb1' }));
    await drive('package-book', 404, json('POST', { ...slot, packageCode: 'lottery' }, patient));
    await drive('package-book', 409, json('POST', { ...slot, packageCode: 'old-panel' }, patient));
    const release = await holdAdvisoryLock(...idempotencyLock({ system: patientBookingSystem, route: 'package-book', caller: 'patient:p-1', key: 'busy' }));
    try {
      await drive('package-book', 409, json('POST', slot, patient, { 'idempotency-key': 'busy' }));
    } finally { await release(); }

    await drive('package-bookings', 200, get({}, patient));
    await drive('package-booking', 200, get({ bookingId: booked.body.bookingId }, patient));
    await drive('package-booking', 404, get({ bookingId: missing }, patient));
    await drive('package-cancel', 202, json('POST', { bookingId: booked.body.bookingId }, patient));
    await drive('package-cancel', 404, json('POST', { bookingId: missing }, patient));
    await db().packageBooking.update({ where: { id: booked.body.bookingId }, data: { status: 'cancelled' } });
    await drive('package-cancel', 409, json('POST', { bookingId: booked.body.bookingId }, patient));
  });

  it('503 with Retry-After from every route while the database is down', async () => {
    const child = await deadDatabaseBundle();
    try {
      // A route that never touches the database (the console's page) has no 503 to drive.
      for (const f of bundle.functions.filter((x) => x.kind === 'route' && statusesOf(x.route!)[503])) {
        const spec = f.route!;
        const tok = spec.auth === 'public' ? undefined : spec.auth.includes('staff') ? (spec.grant ? operatorToken([spec.grant]) : staff) : spec.auth.includes('service') ? service : patient;
        const send = DOWN_REQUESTS[f.name];
        assert.ok(send, `no request drives ${f.name} to the database`);
        const res = await drive(f.name, 503, (url) => send(child.url(f.name, url), tok));
        assert.ok(res.headers.get('retry-after'));
      }
    } finally {
      child.stop();
    }
  });

  it('and /openapi.json lists no status that was not driven', () => {
    for (const f of bundle.functions.filter((x) => x.kind === 'route')) {
      const documented = Object.keys(operation(f.name).responses).map(Number).sort((a, b) => a - b);
      const driven = [...(seen.get(f.name) ?? [])].sort((a, b) => a - b);
      assert.deepEqual(documented, driven, `${f.name}: documented ${documented.join(', ')} but drove ${driven.join(', ')}`);
    }
  });
});

/** A valid request for each route, which needs the database to answer. */
const DOWN_REQUESTS: Record<string, (url: string, tok?: string) => Promise<Answer>> = {
  availability: (url) => call(url, { query: { branchId: BRANCH, from: '2030-01-01', to: '2030-01-02' } }),
  'book-slot': (url, tok) => call(url, { token: tok, body: { slotId: randomUUID(), patientId: 'p-1' } }),
  'booking-cancel': (url, tok) => call(url, { token: tok, body: { bookingId: randomUUID() } }),
  'booking-reschedule': (url, tok) => call(url, { token: tok, body: { bookingId: randomUUID(), slotId: randomUUID() } }),
  'booking-status': (url, tok) => call(url, { token: tok, body: { bookingId: randomUUID(), status: 'confirmed' } }),
  bookings: (url, tok) => call(url, { token: tok, query: { patientId: 'p-1' } }),
  branches: (url) => call(url),
  'call-next': (url, tok) => call(url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw', counter: '1' } }),
  'check-in': (url, tok) => call(url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw' } }),
  'dead-letter-retry': (url, tok) => call(url, { token: tok, body: { group: 'some-group' } }),
  'queue-board': (url) => call(url, { query: { branchId: BRANCH } }),
  'slot-status': (url, tok) => call(url, { token: tok, body: { slotId: randomUUID(), status: 'closed' } }),
  'slots-create': (url, tok) => call(url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw', startsAt: hoursFromNow(500).toISOString(), capacity: 1 } }),
  'slots-generate': (url, tok) => call(url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw', from: '2030-01-01', to: '2030-01-01', weekdays: [1, 2], times: ['09:00'], capacity: 1 } }),
  'ticket-action': (url, tok) => call(url, { token: tok, body: { ticketId: randomUUID(), action: 'serve' } }),
  'ticket-status': (url, tok) => call(url, { token: tok, query: { ticketId: randomUUID() } }),
  'dead-letter-list': (url) => call(url, { token: operatorToken() }),
  'dead-letter-detail': (url) => call(url, { token: operatorToken(), query: { id: randomUUID() } }),
  'dead-letter-summary': (url) => call(url, { token: operatorToken() }),
  'dead-letter-settle': (url) => call(url, { token: operatorToken(), body: { action: 'reopen', letterIds: [randomUUID()] } }),
  'dead-letter-redrive': (url, tok) => call(url, { token: tok, body: { group: 'g1', dryRun: true } }),
  'dead-letter-redrives': (url, tok) => call(url, { token: tok }),
  'dead-letter-redrive-cancel': (url, tok) => call(url, { token: tok, body: { taskId: randomUUID() } }),
  'appointment-visit-types': (url) => call(url),
  'appointment-availability': (url, tok) => call(url, { token: tok, query: { visitTypeId: 'gp-consult', branchId: BRANCH, from: '2030-01-01' } }),
  'appointment-hold': (url, tok) => call(url, { token: tok, body: { visitTypeId: 'gp-consult', branchId: BRANCH, start: '2030-01-01T02:00:00Z', patientId: 'p-1' } }),
  'appointment-book': (url, tok) => call(url, { token: tok, body: { visitTypeId: 'gp-consult', branchId: BRANCH, start: '2030-01-01T02:00:00Z', patientId: 'p-1' } }),
  'appointment-list': (url, tok) => call(url, { token: tok, query: { patientId: 'p-1' } }),
  'appointment-detail': (url, tok) => call(url, { token: tok, query: { appointmentId: randomUUID() } }),
  'appointment-day': (url, tok) => call(url, { token: tok, query: { branchId: BRANCH, date: '2030-01-01' } }),
  'appointment-resources': (url, tok) => call(url, { token: tok, query: { branchId: BRANCH } }),
  'appointment-cancel': (url, tok) => call(url, { token: tok, body: { appointmentId: randomUUID() } }),
  'appointment-reschedule': (url, tok) => call(url, { token: tok, body: { appointmentId: randomUUID(), start: '2030-01-01T02:00:00Z' } }),
  'appointment-modify': (url, tok) => call(url, { token: tok, body: { appointmentId: randomUUID(), notes: 'x' } }),
  'appointment-status': (url, tok) => call(url, { token: tok, body: { appointmentId: randomUUID(), status: 'arrived' } }),
  'appointment-resource-save': (url, tok) => call(url, { token: tok, body: { branchId: BRANCH, kind: 'room', name: 'Room 9', hours: {} } }),
  'appointment-exception-save': (url, tok) => call(url, { token: tok, body: { resourceId: randomUUID(), kind: 'closed', start: '2030-01-01T02:00:00Z', end: '2030-01-01T03:00:00Z' } }),
  'appointment-visit-type-save': (url, tok) => call(url, { token: tok, body: { visitTypeId: 'x', name: 'X', durationMinutes: 15, requirements: [{ kind: 'room' }] } }),
  'lab-orders': (url, tok) => call(url, { token: tok, body: { appointmentId: randomUUID(), accession: 'ACC-9' } }),
  'notification-inbox': (url, tok) => call(url, { token: tok }),
  'notification-inbox-count': (url, tok) => call(url, { token: tok }),
  'notification-inbox-mark': (url, tok) => call(url, { token: tok, body: { action: 'read', all: true } }),
  'notification-preferences': (url, tok) => call(url, { token: tok }),
  'notification-preference-save': (url, tok) => call(url, { token: tok, body: { category: '*', channels: ['in-app'] } }),
  'notification-push-subscribe': (url, tok) => call(url, { token: tok, body: { endpoint: 'https://push.example.com/send/x', keys: { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url'), auth: Buffer.alloc(16, 3).toString('base64url') } } }),
  'notification-history': (url, tok) => call(url, { token: tok, query: { patientId: 'p-1' } }),
  packages: (url) => call(url),
  recommendations: (url, tok) => call(url, { token: tok, query: { patientId: 'p-1' } }),
  'notification-resend': (url, tok) => call(url, { token: tok, body: { notificationId: randomUUID() } }),
  'notification-sms-callback': (url) => smsCallback('delivered')(url),
  results: (url) => call(url, { token: patient }),
  'result-detail': (url) => call(url, { token: patient, query: { reportId: randomUUID() } }),
  'result-trend': (url) => call(url, { token: patient, query: { loinc: '2345-7' } }),
  'results-held': (url, tok) => call(url, { token: tok }),
  'result-release': (url, tok) => call(url, { token: tok, body: { reportId: randomUUID(), reason: 'reviewed' } }),
  'result-call': (url, tok) => call(url, { token: tok, body: { reportId: randomUUID() } }),
  'result-withhold': (url, tok) => call(url, { token: tok, body: { reportId: randomUUID(), reason: 'in person' } }),
  'result-audit': (url, tok) => call(url, { token: tok, query: { reportId: randomUUID() } }),
  'package-book': (url, tok) => call(url, { token: tok, body: { packageCode: PACKAGE, slotId: randomUUID(), patientId: 'p-1' } }),
  'package-bookings': (url, tok) => call(url, { token: tok, query: { patientId: 'p-1' } }),
  'package-booking': (url, tok) => call(url, { token: tok, query: { bookingId: randomUUID() } }),
  'package-cancel': (url, tok) => call(url, { token: tok, body: { bookingId: randomUUID() } }),
};

/** The bundle in a child process whose DATABASE_URL points at a port where no database listens. */
async function deadDatabaseBundle(): Promise<{ url(name: string, fallback: string): string; stop(): void }> {
  const script = `
    const { Bundle } = require(${JSON.stringify(path.join(__dirname, '../scripts/lib/runtime/bundle.ts'))});
    const { useLaptopDefaults } = require(${JSON.stringify(path.join(__dirname, '../scripts/lib/laptop/defaults.ts'))});
    useLaptopDefaults();
    new Bundle({ port: 0, schedules: false }).start().then((b) => {
      process.stdout.write(JSON.stringify(Object.fromEntries(b.functions.map((f) => [f.name, f.url]))) + '\\n');
    });`;
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    env: { ...process.env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere', DATABASE_CONNECT_TIMEOUT_MS: '500', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => { out += c; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0])); });
    child.on('exit', (code) => reject(new Error(`the dead-database bundle exited (${code})`)));
  });
  return { url: (name) => urls[name], stop: () => child.kill('SIGKILL') };
}
