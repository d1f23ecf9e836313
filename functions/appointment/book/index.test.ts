import { strict as assert } from 'node:assert';
import * as book from './index';
import * as hold from '../hold/index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, patientToken, staffToken, token, published, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, at, RESOURCES, doubleBookings } from '../../../test/support/clinic';

describe('appointment-book (POST /api/appointments)', () => {
  let fn: RunningFunction;
  let holding: RunningFunction;
  before(async () => { [fn, holding] = await Promise.all([startFunction(book), startFunction(hold)]); });
  after(async () => { await fn.close(); await holding.close(); });
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  const bookAt = (start: Date, patient = 'p-1', visitTypeId = 'annual-checkup', extra: Record<string, unknown> = {}) =>
    call(fn.url, { token: patientToken(patient), body: { visitTypeId, branchId: BRANCH, start: start.toISOString(), ...extra } });

  it('books an annual check-up on a doctor, an exam room and the ECG at once, and says so on appointment-events', async () => {
    const res = await bookAt(at(2, '09:00'));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.status, res.body.paymentStatus, res.body.patientId, res.body.start, res.body.end],
      ['booked', 'not-required', 'p-1', at(2, '09:00').toISOString(), at(2, '09:30').toISOString()]);
    assert.equal(res.body.resourceIds.length, 3);
    assert.ok(res.body.resourceIds.includes(RESOURCES.ecg));
    const events = await published('appointment-events');
    assert.deepEqual(events.map((e) => [e.type, e.key]), [['com.medlab.appointment.booked', res.body.appointmentId]]);
    assert.deepEqual(events[0].data.resourceIds.sort(), [...res.body.resourceIds].sort());
  });

  it('a race of 30 patients for the one ECG at one time: exactly one is booked, 29 get 409, and no resource is ever double-booked', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => bookAt(at(3, '10:00'), `p-${i}`)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, ...Array(29).fill(409)]);
    for (const refused of answers.filter((a) => a.status === 409)) assert.equal(refused.body['invalid-params'][0].name, 'body/start');
    assert.equal(await db().resourceBooking.count({ where: { resourceId: RESOURCES.ecg, releasedAt: null } }), 1);
    assert.equal(await doubleBookings(), 0);
  });

  it('a race of overlapping times (every 5 minutes, 30 minutes each) for the one ECG: the booked visits never overlap', async () => {
    const starts = Array.from({ length: 12 }, (_, i) => new Date(at(4, '08:00').getTime() + i * 5 * 60_000));
    const answers = await Promise.all(starts.map((s, i) => bookAt(s, `p-${i}`)));
    const booked = answers.filter((a) => a.status === 201).map((a) => Date.parse(a.body.start)).sort((a, b) => a - b);
    assert.ok(answers.every((a) => a.status === 201 || a.status === 409), JSON.stringify(answers.map((a) => [a.status, a.body.detail])));
    assert.ok(booked.length >= 2, 'at least 08:00 and 08:30 fit');
    booked.slice(1).forEach((s, i) => assert.ok(s - booked[i] >= 30 * 60_000, 'visits on the ECG do not overlap'));
    assert.ok(answers.every((a) => a.status === 201 || a.status === 409));
    assert.equal(await doubleBookings(), 0);
  });

  it('the database itself refuses a holding that overlaps another on the same resource, whatever the code does', async () => {
    const booked = await bookAt(at(3, '09:00'));
    const insert = (start: string, end: string) => db().$executeRawUnsafe(
      `INSERT INTO appointment.resource_booking (appointment_id, resource_id, starts_at, ends_at) VALUES ($1::uuid, $2::uuid, $3::timestamptz, $4::timestamptz)`,
      booked.body.appointmentId, RESOURCES.ecg, start, end);
    await assert.rejects(insert(at(3, '09:29').toISOString(), at(3, '09:45').toISOString()), /resource_booking_no_overlap/);
    // Half-open: a visit may start the minute the previous one ends.
    assert.equal(await insert(at(3, '09:30').toISOString(), at(3, '09:45').toISOString()), 1);
    // A released holding blocks nothing.
    await db().resourceBooking.updateMany({ where: { appointmentId: booked.body.appointmentId }, data: { releasedAt: new Date() } });
    assert.equal(await insert(at(3, '09:00').toISOString(), at(3, '09:30').toISOString()), 1);
  });

  it('when one doctor is taken the other serves: two GP consultations at one time take two doctors and two rooms', async () => {
    const [a, b] = await Promise.all([bookAt(at(2, '14:00'), 'p-1', 'gp-consult'), bookAt(at(2, '14:00'), 'p-2', 'gp-consult')]);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.equal(new Set([...a.body.resourceIds, ...b.body.resourceIds]).size, 4);
    assert.equal((await bookAt(at(2, '14:00'), 'p-3', 'gp-consult')).status, 409);
  });

  it('a visit paid first waits as pending, awaiting payment, with a payment deadline', async () => {
    const res = await bookAt(at(2, '15:00'), 'p-1', 'cardio-paid');
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.status, res.body.paymentStatus], ['pending', 'awaiting']);
    const minutes = (Date.parse(res.body.holdExpiresAt) - Date.now()) / 60_000;
    assert.ok(minutes > 29 && minutes <= 30, `payment deadline ${minutes} min`);
  });

  it('confirms a hold: the held resources become the booking', async () => {
    const held = await call(holding.url, { token: patientToken('p-1'), body: { visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '08:00').toISOString() } });
    assert.equal(held.status, 201);
    const res = await call(fn.url, { token: patientToken('p-1'), body: { appointmentId: held.body.appointmentId } });
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.appointmentId, res.body.status, res.body.resourceIds], [held.body.appointmentId, 'booked', held.body.resourceIds]);
    assert.equal(res.body.holdExpiresAt, undefined);
    const again = await call(fn.url, { token: patientToken('p-1'), body: { appointmentId: held.body.appointmentId } });
    assert.equal(again.status, 409);
    assert.equal((await call(fn.url, { token: patientToken('p-2'), body: { appointmentId: held.body.appointmentId } })).status, 404, 'another patient\'s hold is not found');
  });

  it('a cancelled (lapsed) hold cannot be confirmed: 409 naming appointmentId', async () => {
    const held = await call(holding.url, { token: patientToken('p-1'), body: { visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '08:00').toISOString() } });
    await db().appointment.update({ where: { id: held.body.appointmentId }, data: { status: 'cancelled', cancelReason: 'hold-expired' } });
    const res = await call(fn.url, { token: patientToken('p-1'), body: { appointmentId: held.body.appointmentId } });
    assert.equal(res.status, 409);
    assert.equal(res.body['invalid-params'][0].name, 'body/appointmentId');
    assert.match(res.body.detail, /lapsed/);
  });

  it('the same Idempotency-Key books once and replays the answer', async () => {
    const send = () => call(fn.url, { token: patientToken('p-1'), headers: { 'idempotency-key': 'book-1' }, body: { visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '11:00').toISOString() } });
    const [first, second] = [await send(), await send()];
    assert.deepEqual([first.status, second.status], [201, 201]);
    assert.equal(second.body.appointmentId, first.body.appointmentId);
    assert.equal(await db().appointment.count(), 1);
  });

  it('staff book for a named patient at their branch; not at another branch; a patient cannot book for someone else', async () => {
    const body = { visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '16:00').toISOString() };
    const noPatient = await call(fn.url, { token: staffToken(), body });
    assert.equal(noPatient.status, 400);
    assert.equal(noPatient.body['invalid-params'][0].name, 'body/patientId');
    assert.equal((await call(fn.url, { token: staffToken(), body: { ...body, patientId: 'p-9' } })).status, 201);
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body: { ...body, patientId: 'p-9', start: at(2, '16:30').toISOString() } })).status, 403);
    const other = await call(fn.url, { token: patientToken('p-1'), body: { ...body, patientId: 'p-2', start: at(2, '16:30').toISOString() } });
    assert.equal(other.status, 403);
    assert.equal((await call(fn.url, { token: token('service', 'patient-booking'), body: { ...body, patientId: 'p-3', start: at(2, '16:30').toISOString() } })).status, 201);
  });

  it('a time outside the schedule (lunch, night), a past time or an unknown visit type is refused naming the field, and nothing is written', async () => {
    for (const [start, status, field] of [[at(2, '12:15'), 400, 'body/start'], [at(2, '22:00'), 400, 'body/start'], [at(-1, '09:00'), 400, 'body/start']] as const) {
      const res = await bookAt(start);
      assert.equal(res.status, status, start.toISOString());
      assert.equal(res.body['invalid-params'][0].name, field);
    }
    const lunch = await bookAt(at(2, '11:45'));
    assert.match(lunch.body.detail, /outside the schedule/, 'a 30-minute visit at 11:45 runs into the lunch break');
    const unknown = await bookAt(at(2, '09:00'), 'p-1', 'no-such-visit');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['invalid-params'][0].name, 'body/visitTypeId');
    assert.equal(await db().appointment.count(), 0);
    assert.equal(await db().resourceBooking.count(), 0);
  });

  it('answers bad input with 400 problem+json naming the field, and needs a token', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'body/visitTypeId'],
      [{ appointmentId: 'nope' }, 'body/appointmentId'],
      [{ visitTypeId: 'gp-consult', branchId: BRANCH, start: 'tomorrow' }, 'body/start'],
      [{ visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '09:00').toISOString(), patientTimezone: 'Mars/Olympus' }, 'body/patientTimezone'],
      [{ visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '09:00').toISOString(), language: 'fr' }, 'body/language'],
      [{ visitTypeId: 'gp-consult', branchId: BRANCH, start: at(2, '09:00').toISOString(), colour: 'red' }, 'body/colour'],
    ];
    for (const [body, field] of cases) {
      const res = await call(fn.url, { token: patientToken(), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params'].some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
    assert.equal((await call(fn.url, { body: { appointmentId: RESOURCES.ecg } })).status, 401);
  });
});
