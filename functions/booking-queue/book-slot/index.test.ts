import { strict as assert } from 'node:assert';
import * as bookSlot from './index';
import { db } from '../../shared/db';
import { resetDatabase, seedCatalogue, createSlot, startFunction, call, patientToken, staffToken, published, hoursFromNow, OTHER_BRANCH, type RunningFunction } from '../../../test/support/fixtures';

describe('book-slot (POST /api/bookings)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(bookSlot); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  it('books a place for the calling patient, confirms it and publishes booking.confirmed + slot.allocated', async () => {
    const slot = await createSlot({ capacity: 2 });
    const res = await call(fn.url, { token: patientToken('p-1'), body: { slotId: slot.id } });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'confirmed');
    assert.equal(res.body.patientId, 'p-1');
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    const events = await published('booking-events');
    assert.deepEqual(events.map((e) => [e.type, e.key]).sort(), [
      ['com.medlab.booking.confirmed', res.body.bookingId],
      ['com.medlab.slot.allocated', slot.id],
    ]);
  });

  it('a full slot rejects the next booking with 409 naming slotId', async () => {
    const slot = await createSlot({ capacity: 1 });
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { slotId: slot.id } })).status, 201);
    const res = await call(fn.url, { token: patientToken('p-2'), body: { slotId: slot.id } });
    assert.equal(res.status, 409);
    assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal(res.body['invalid-params'][0].name, 'body/slotId');
  });

  it('a retried request with the same Idempotency-Key books once and gets the first answer replayed', async () => {
    const slot = await createSlot({ capacity: 3 });
    const req = { token: patientToken('p-1'), body: { slotId: slot.id }, headers: { 'idempotency-key': 'abc-123' } };
    const first = await call(fn.url, req);
    const again = await call(fn.url, req);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    assert.equal(await db().booking.count(), 1);
  });

  it('concurrent retries with one Idempotency-Key still book once: the others are told it is in flight (409) or get it replayed', async () => {
    const slot = await createSlot({ capacity: 10 });
    const req = { token: patientToken('p-1'), body: { slotId: slot.id }, headers: { 'idempotency-key': 'same' } };
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(fn.url, req)));
    assert.ok(answers.every((a) => a.status === 201 || a.status === 409), JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.filter((a) => a.status === 409).every((a) => a.headers.get('retry-after') === '1'));
    assert.equal(new Set(answers.filter((a) => a.status === 201).map((a) => a.body.bookingId)).size, 1);
    assert.equal(await db().booking.count(), 1);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
  });

  it('a service that requires confirmation leaves the booking pending', async () => {
    const slot = await createSlot({ serviceId: 'check-up' });
    const res = await call(fn.url, { token: patientToken(), body: { slotId: slot.id } });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'pending');
  });

  it('refuses closed and past slots with 409, unknown slots with 404', async () => {
    const closed = await createSlot({ status: 'closed' });
    assert.equal((await call(fn.url, { token: patientToken(), body: { slotId: closed.id } })).status, 409);
    const past = await createSlot({ startsAt: hoursFromNow(-2) });
    const pastRes = await call(fn.url, { token: patientToken(), body: { slotId: past.id } });
    assert.equal(pastRes.status, 409);
    assert.match(pastRes.body.detail, /already started/);
    const missing = await call(fn.url, { token: patientToken(), body: { slotId: '00000000-0000-4000-8000-000000000000' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body['invalid-params'][0].name, 'body/slotId');
  });

  it('answers bad input with 4xx problem+json naming the field', async () => {
    const cases: Array<[Parameters<typeof call>[1], number, string]> = [
      [{ token: patientToken(), raw: '{"slotId": ', headers: { 'content-type': 'application/json' } }, 400, 'body'],
      [{ token: patientToken(), raw: 'slotId=1', headers: { 'content-type': 'text/plain' } }, 415, 'header/content-type'],
      [{ token: patientToken(), body: {} }, 400, 'body/slotId'],
      [{ token: patientToken(), body: { slotId: 'not-a-uuid' } }, 400, 'body/slotId'],
      [{ token: patientToken(), body: { slotId: '00000000-0000-4000-8000-000000000000', extra: 1 } }, 400, 'body/extra'],
      [{ token: patientToken(), raw: JSON.stringify({ slotId: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' } }, 413, 'body'],
    ];
    for (const [init, status, field] of cases) {
      const res = await call(fn.url, init);
      assert.equal(res.status, status, `${JSON.stringify(init).slice(0, 80)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.ok(res.body['invalid-params']?.some((p: { name: string }) => p.name === field), JSON.stringify(res.body));
    }
  });

  it('needs a valid token: 401 without or with a forged one', async () => {
    const slot = await createSlot();
    assert.equal((await call(fn.url, { body: { slotId: slot.id } })).status, 401);
    const forged = patientToken().slice(0, -3) + 'abc';
    const res = await call(fn.url, { token: forged, body: { slotId: slot.id } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  it('staff book for a patient at their own branch only', async () => {
    const slot = await createSlot();
    assert.equal((await call(fn.url, { token: staffToken(), body: { slotId: slot.id } })).status, 400);
    assert.equal((await call(fn.url, { token: staffToken(), body: { slotId: slot.id, patientId: 'p-9' } })).status, 201);
    assert.equal((await call(fn.url, { token: staffToken(OTHER_BRANCH), body: { slotId: slot.id, patientId: 'p-8' } })).status, 403);
  });

  it('a patient cannot book for another patient', async () => {
    const slot = await createSlot();
    assert.equal((await call(fn.url, { token: patientToken('p-1'), body: { slotId: slot.id, patientId: 'p-2' } })).status, 403);
  });

  it('CORS: a portal origin is echoed; a foreign origin gets 403 and no side effect', async () => {
    const slot = await createSlot();
    const ok = await call(fn.url, { token: patientToken('p-1'), body: { slotId: slot.id }, headers: { origin: 'http://localhost:3000' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    const foreign = await call(fn.url, { token: patientToken('p-2'), body: { slotId: slot.id }, headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    const preflight = await fetch(fn.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const goodPreflight = await fetch(fn.url, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
    assert.equal(goodPreflight.status, 204);
    assert.equal(goodPreflight.headers.get('access-control-allow-origin'), 'http://localhost:3000');
  });
});
