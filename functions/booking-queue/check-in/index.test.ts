import { strict as assert } from 'node:assert';
import * as checkIn from './index';
import { db } from '../../shared/db';

import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, token, published, hoursFromNow, BRANCH, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';
import { branchDay } from '../calendar';

const minutesFromNow = (m: number) => hoursFromNow(m / 60);

/** A zone where it is about noon now, so every slot these tests make falls on the branch's today. */
function noonZone(now = new Date()): string {
  const east = 12 - now.getUTCHours();
  return east === 0 ? 'Etc/GMT' : `Etc/GMT${east > 0 ? '-' : '+'}${Math.abs(east)}`;
}

async function booking(opts: { patientId?: string; startsAt?: Date; status?: 'pending' | 'confirmed' | 'cancelled' | 'checked_in'; branchId?: string } = {}) {
  const slot = await createSlot({ startsAt: opts.startsAt ?? minutesFromNow(10), branchId: opts.branchId });
  return db().booking.create({ data: { slotId: slot.id, patientId: opts.patientId ?? 'p-1', status: opts.status ?? 'confirmed' } });
}

describe('check-in (POST /api/queue/check-in)', () => {
  let fn: RunningFunction;
  const walkIn = (body: Record<string, unknown> = {}, tok = staffToken()) =>
    call(fn.url, { token: tok, body: { branchId: BRANCH, serviceId: 'blood-draw', ...body } });
  before(async () => { fn = await startFunction(checkIn); });
  after(async () => fn.close());
  beforeEach(async () => {
    await resetDatabase();
    await seedCatalogue();
    await db().branch.updateMany({ data: { timezone: noonZone() } });
  });

  it('a patient on time for their booking gets a ticket in the booked lane, and the booking is checked in', async () => {
    const b = await booking({ patientId: 'p-1', startsAt: minutesFromNow(10) });
    const res = await call(fn.url, { token: patientToken('p-1'), body: { branchId: BRANCH, bookingId: b.id } });
    assert.equal(res.status, 201);
    assert.deepEqual(
      { number: res.body.number, lane: res.body.lane, status: res.body.status, serviceId: res.body.serviceId, position: res.body.position, etaMinutes: res.body.etaMinutes, bookingId: res.body.bookingId, patientId: res.body.patientId },
      { number: 'A-001', lane: 'booked', status: 'waiting', serviceId: 'blood-draw', position: 1, etaMinutes: 0, bookingId: b.id, patientId: 'p-1' },
    );
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: b.id } })).status, 'checked_in');

    const [changed] = await published('booking-events');
    assert.equal(changed.type, 'com.medlab.booking.status-changed');
    assert.deepEqual([changed.data.status, changed.data.previousStatus], ['checked_in', 'confirmed']);
    const [issued] = await published('queue-events');
    assert.equal(issued.type, 'com.medlab.ticket.issued');
    assert.equal(issued.key, `${BRANCH}/blood-draw`);
    assert.deepEqual([issued.data.ticketId, issued.data.number, issued.data.position, issued.data.etaMinutes], [res.body.ticketId, 'A-001', 1, 0]);
  });

  it('a patient arriving more than 15 minutes after their slot started queues as a walk-in', async () => {
    const b = await booking({ startsAt: minutesFromNow(-20) });
    const res = await call(fn.url, { token: patientToken('p-1'), body: { branchId: BRANCH, bookingId: b.id } });
    assert.equal(res.status, 201);
    assert.equal(res.body.lane, 'walkin');
  });

  it('an SVIP patient checking in for a booking goes ahead of everyone already waiting', async () => {
    await walkIn();
    const other = await booking({ patientId: 'p-2', startsAt: minutesFromNow(5) });
    assert.equal((await call(fn.url, { token: patientToken('p-2'), body: { branchId: BRANCH, bookingId: other.id } })).body.position, 1);
    const svip = await booking({ patientId: 'p-1', startsAt: minutesFromNow(10) });
    const res = await call(fn.url, { token: patientToken('p-1', 'svip'), body: { branchId: BRANCH, bookingId: svip.id } });
    assert.equal(res.body.lane, 'svip');
    assert.equal(res.body.number, 'A-003');
    assert.equal(res.body.position, 1);
  });

  it('staff issue walk-in tickets: lane walkin by default, vip on request, patient optional', async () => {
    const first = await walkIn();
    assert.equal(first.status, 201);
    assert.deepEqual([first.body.number, first.body.lane, first.body.patientId, first.body.bookingId], ['A-001', 'walkin', null, null]);
    const vip = await walkIn({ lane: 'vip', patientId: 'p-7' });
    assert.deepEqual([vip.body.number, vip.body.lane, vip.body.patientId, vip.body.position], ['A-002', 'vip', 'p-7', 1]);
  });

  it('the ETA counts the patients ahead at the service duration (5 min per blood draw, one counter)', async () => {
    await walkIn();
    await walkIn();
    const third = await walkIn();
    assert.deepEqual([third.body.position, third.body.etaMinutes], [3, 10]);
  });

  it('numbers count up per service and restart every day', async () => {
    const yesterday = branchDay(hoursFromNow(-24), noonZone());
    await db().ticket.create({ data: { branchId: BRANCH, serviceId: 'blood-draw', day: yesterday, seq: 41, number: 'A-041', lane: 'walkin' } });
    assert.equal((await walkIn()).body.number, 'A-001');
    assert.equal((await walkIn()).body.number, 'A-002');
    assert.equal((await walkIn({ serviceId: 'check-up' })).body.number, 'B-001');
    assert.equal((await walkIn({ branchId: OTHER_BRANCH }, staffToken(OTHER_BRANCH))).body.number, 'A-001');
  });

  it('concurrent arrivals get distinct consecutive numbers', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => walkIn()));
    assert.ok(answers.every((a) => a.status === 201), JSON.stringify(answers.map((a) => a.body)));
    assert.deepEqual(answers.map((a) => a.body.number).sort(), ['A-001', 'A-002', 'A-003', 'A-004', 'A-005', 'A-006', 'A-007', 'A-008']);
  });

  it('checking in twice for the same booking is a 409', async () => {
    const b = await booking();
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { branchId: BRANCH, bookingId: b.id } })).status, 201);
    const again = await call(fn.url, { token: staffToken(), body: { branchId: BRANCH, bookingId: b.id } });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /already checked in/);
    assert.equal(await db().ticket.count(), 1);
  });

  it('only a confirmed booking for today at this branch checks in (409 naming body/bookingId)', async () => {
    const cases: Array<[Awaited<ReturnType<typeof booking>>, RegExp, string?]> = [
      [await booking({ status: 'pending' }), /not confirmed yet/],
      [await booking({ status: 'cancelled', startsAt: minutesFromNow(20) }), /cancelled booking cannot check in/],
      [await booking({ startsAt: hoursFromNow(48) }), /not for today/],
      [await booking({ branchId: OTHER_BRANCH }), /another branch/],
    ];
    for (const [b, detail] of cases) {
      const res = await call(fn.url, { token: patientToken('p-1'), body: { branchId: BRANCH, bookingId: b.id } });
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.match(res.body.detail, detail);
      assert.equal(res.body['invalid-params'][0].name, 'body/bookingId');
    }
    assert.equal(await db().ticket.count(), 0);
  });

  it('a booking brings its own service and patient: a different serviceId is 409, a patientId is 400', async () => {
    const b = await booking();
    const service = await call(fn.url, { token: staffToken(), body: { branchId: BRANCH, bookingId: b.id, serviceId: 'check-up' } });
    assert.equal(service.status, 409);
    assert.equal(service.body['invalid-params'][0].name, 'body/serviceId');
    const patient = await call(fn.url, { token: staffToken(), body: { branchId: BRANCH, bookingId: b.id, patientId: 'p-2' } });
    assert.equal(patient.status, 400);
    assert.equal(patient.body['invalid-params'][0].name, 'body/patientId');
  });

  it('staff of the branch check a booked patient in, and may set their lane', async () => {
    const b = await booking({ startsAt: minutesFromNow(-40) });
    const res = await call(fn.url, { token: staffToken(), body: { branchId: BRANCH, bookingId: b.id, lane: 'vip' } });
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.lane, res.body.patientId], ['vip', 'p-1']);
  });

  it("another patient's booking answers exactly as one that does not exist (404, same body)", async () => {
    const b = await booking({ patientId: 'p-1' });
    const theirs = await call(fn.url, { token: patientToken('p-2'), body: { branchId: BRANCH, bookingId: b.id } });
    const none = await call(fn.url, { token: patientToken('p-2'), body: { branchId: BRANCH, bookingId: crypto.randomUUID() } });
    assert.equal(theirs.status, 404);
    assert.deepEqual(theirs.body, none.body);
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: b.id } })).status, 'confirmed');
  });

  it('auth: patients check in only their own booking, cannot walk in or choose a lane; staff only at their branch', async () => {
    const b = await booking({ patientId: 'p-1' });
    const cases: Array<[string | undefined, Record<string, unknown>, number]> = [
      [undefined, { branchId: BRANCH, bookingId: b.id }, 401],
      [patientToken('p-2'), { branchId: BRANCH, bookingId: b.id }, 404],
      [patientToken('p-1'), { branchId: BRANCH, bookingId: b.id, lane: 'svip' }, 403],
      [patientToken('p-1'), { branchId: BRANCH, serviceId: 'blood-draw' }, 403],
      [staffToken(OTHER_BRANCH), { branchId: BRANCH, bookingId: b.id }, 404],
      [staffToken(OTHER_BRANCH), { branchId: BRANCH, serviceId: 'blood-draw' }, 403],
      [token('service', 'crm'), { branchId: BRANCH, serviceId: 'blood-draw' }, 403],
    ];
    for (const [tok, body, status] of cases) {
      const res = await call(fn.url, { token: tok, body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
    }
    assert.equal(await db().ticket.count(), 0);
    assert.equal((await db().booking.findUniqueOrThrow({ where: { id: b.id } })).status, 'confirmed');
  });

  it('answers bad input with 4xx problem+json naming the field', async () => {
    const staff = staffToken();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{}, 400, 'body/branchId'],
      [{ branchId: BRANCH }, 400, 'body/serviceId'],
      [{ branchId: BRANCH, bookingId: 'not-a-uuid' }, 400, 'body/bookingId'],
      [{ branchId: BRANCH, serviceId: 'blood-draw', lane: 'booked' }, 400, 'body/lane'],
      [{ branchId: BRANCH, serviceId: 'blood-draw', counter: '1' }, 400, 'body/counter'],
      [{ branchId: 'nowhere', serviceId: 'blood-draw' }, 404, 'body/branchId'],
      [{ branchId: BRANCH, serviceId: 'x-ray' }, 404, 'body/serviceId'],
      [{ branchId: BRANCH, bookingId: '00000000-0000-4000-8000-000000000000' }, 404, 'body/bookingId'],
    ];
    for (const [body, status, field] of cases) {
      const res = await call(fn.url, { token: staff, body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });
});
