// The whole bundle as `npm start` runs it (knative/ wiring, in-process bus): what a new user does on the
// first day — book, check in, see the ticket on the board — and the booking-requests chain.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { db } from '../functions/shared/db';
import { branchDay } from '../functions/booking-queue/calendar';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, staffToken, published, eventually, bundleIdle, BRANCH } from './support/fixtures';

/**
 * A branch timezone in which `now` is just past noon, and a slot ten minutes later: check-in takes only
 * bookings for the branch's today, so a slot "ten minutes from now" must not cross the branch's midnight
 * (with a fixed zone it does for ten minutes a day: 23:50–24:00 there). Etc/GMT-N is UTC+N (POSIX signs).
 */
export function arrivalSoon(now: Date): { timezone: string; startsAt: Date } {
  const offset = 12 - now.getUTCHours(); // −11 … +12, all valid Etc/GMT zones
  const timezone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  return { timezone, startsAt: new Date(now.getTime() + 10 * 60_000) };
}

describe('a slot ten minutes away is on the branch\'s today at any time of day (pinned clocks)', () => {
  it('every minute of a day, including 23:55 UTC and 23:55 in Asia/Ho_Chi_Minh', () => {
    const day = Date.parse('2026-03-01T00:00:00Z');
    for (let minute = 0; minute < 24 * 60; minute++) {
      const now = new Date(day + minute * 60_000 + 59_999);
      const { timezone, startsAt } = arrivalSoon(now);
      assert.equal(branchDay(startsAt, timezone), branchDay(now, timezone), `at ${now.toISOString()} in ${timezone}`);
      assert.ok(startsAt > now, 'the slot has not started: it can still be booked');
    }
    // What the test did before: the branch in UTC (or its own Asia/Ho_Chi_Minh), a slot ten minutes away.
    for (const [now, zone] of [['2026-03-01T23:55:00Z', 'UTC'], ['2026-03-01T16:55:00Z', 'Asia/Ho_Chi_Minh']] as const) {
      const at = new Date(now);
      assert.notEqual(branchDay(new Date(at.getTime() + 10 * 60_000), zone), branchDay(at, zone), `${now} in ${zone} crosses midnight`);
      const fixed = arrivalSoon(at);
      assert.equal(branchDay(fixed.startsAt, fixed.timezone), branchDay(at, fixed.timezone));
    }
  });
});

describe('bundle on embedded defaults (knative/ wiring, in-process bus)', function () {
  this.timeout(60_000);
  let bundle: Bundle;

  before(async () => {
    bundle = await new Bundle({ port: 0, schedules: false }).start();
  });
  after(async () => bundle?.stop());
  beforeEach(async () => { await resetDatabase(); await seedCatalogue(); });

  const idle = () => bundleIdle(bundle);

  it('lists every function with its URL and trigger, and serves an OpenAPI 3.1 document of the routes', async () => {
    const listing = (await call(`${bundle.url}/functions`)).body.functions as Array<{ name: string; kind: string; routes: string[]; topics: string[] }>;
    assert.equal(listing.length, bundle.manifests.services.length);
    assert.ok(listing.find((f) => f.name === 'book-slot')?.routes.some((r) => r.endsWith('/api/bookings')));
    assert.ok(listing.find((f) => f.name === 'booking-consumer')?.topics[0].startsWith('booking-requests'));
    const doc = (await call(`${bundle.url}/openapi.json`)).body;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.paths['/api/bookings'].post.requestBody.content['application/json'].schema.required[0], 'slotId');
    assert.deepEqual(doc.paths['/api/queue/board'].get.security, []);
    // Probes answer 503 while the event loop lags over 42 ms (faas-js-runtime's overload-protection), as on a
    // machine busy with other tests: ready means 200 once it catches up.
    await eventually(async () => (await call(`${bundle.url}/functions/book-slot/health/readiness`)).status === 200, 'book-slot to report ready', 30_000, 250);
  });

  it('a patient books, checks in and appears on the branch board; the events flow in order', async () => {
    // Check-in accepts bookings for today (branch-local); this slot is ten minutes away, in a zone where
    // that is the same day whatever the clock says.
    const { timezone, startsAt } = arrivalSoon(new Date());
    await db().branch.update({ where: { id: BRANCH }, data: { timezone } });
    const slot = await createSlot({ startsAt, capacity: 4 });
    const booking = await call(`${bundle.url}/api/bookings`, { token: patientToken('p-walk'), body: { slotId: slot.id } });
    assert.equal(booking.status, 201);
    const ticket = await call(`${bundle.url}/api/queue/check-in`, { token: patientToken('p-walk'), body: { branchId: BRANCH, bookingId: booking.body.bookingId } });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    assert.match(ticket.body.number, /^A-\d{3}$/);
    const board = await call(`${bundle.url}/api/queue/board?branchId=${BRANCH}`);
    assert.equal(board.status, 200);
    assert.equal(board.body.services.find((s: { serviceId: string }) => s.serviceId === 'blood-draw').waiting, 1);
    const called = await call(`${bundle.url}/api/queue/call-next`, { token: staffToken(), body: { branchId: BRANCH, serviceId: 'blood-draw', counter: '3' } });
    assert.equal(called.body.called.number, ticket.body.number);
    await idle();
    const bookingTypes = (await published('booking-events')).filter((e) => e.key === booking.body.bookingId).map((e) => e.type);
    assert.deepEqual(bookingTypes, ['com.medlab.booking.confirmed', 'com.medlab.booking.status-changed']);
    const queueTypes = (await published('queue-events')).map((e) => e.type);
    assert.deepEqual(queueTypes, ['com.medlab.ticket.issued', 'com.medlab.ticket.called']);
  });

  it('a booking request on the bus is delivered by the KafkaSource wiring and decided; a poison one is dead-lettered', async () => {
    const slot = await createSlot({ capacity: 1 });
    const send = (data: unknown, id: string = randomUUID()) => memoryBus.send([{
      topic: 'booking-requests', key: 'p-bus', value: JSON.stringify(data),
      headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/portal', ce_type: 'com.medlab.booking.requested', 'content-type': 'application/json' },
    }]);
    await send({ requestId: 'r-1', patientId: 'p-bus', slotId: slot.id });
    await send({ requestId: 'r-2', patientId: 'p-bus' }, 'poison-1');
    await idle();
    assert.equal((await db().slot.findUniqueOrThrow({ where: { id: slot.id } })).booked, 1);
    const letter = await db().deadLetter.findFirstOrThrow({ where: { eventId: 'poison-1' } });
    assert.equal(letter.errorCode, 400);
    assert.match(letter.reason!, /data\/slotId: is required/);
  });

  it('the outbox publisher PingSource sweeps events left unsent', async () => {
    const slot = await createSlot();
    await db().bookingQueueOutboxEvent.create({ data: { id: randomUUID(), topic: 'booking-events', key: slot.id, type: 'com.medlab.slot.released', source: '/test', data: { slotId: slot.id, bookingId: randomUUID(), booked: 0, capacity: 5 } } });
    assert.equal(await bundle.ping('booking-queue-outbox-publisher-ping'), 200);
    assert.equal(await db().bookingQueueOutboxEvent.count({ where: { publishedAt: null } }), 0);
    assert.ok((await published('booking-events')).some((e) => e.type === 'com.medlab.slot.released'));
  });

  it('unknown paths and wrong methods answer problem+json', async () => {
    const missing = await call(`${bundle.url}/api/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type')!, /problem\+json/);
    const wrong = await call(`${bundle.url}/api/queue/board`, { method: 'DELETE' });
    assert.equal(wrong.status, 405);
  });
});
