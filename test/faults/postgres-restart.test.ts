// Fault: PostgreSQL restarts under load. The book-slot function runs on its own (faas-js-runtime CLI, a child
// process) against a private PostgreSQL instance, so stopping it leaves the rest of the suite alone. While
// patients book concurrently the server is stopped (fast shutdown: sessions are terminated mid-transaction),
// kept down for a moment and started again. Users see 503 problem+json with Retry-After while it is down,
// never a 500, a crash or a hang; nothing is half-written; the function recovers by itself; and a patient
// who retries with the same Idempotency-Key ends up with exactly one booking.
import { strict as assert } from 'node:assert';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { applyMigrations } from '../../scripts/lib/migrations';
import { freePort, patientToken, eventually } from '../support/fixtures';
import { CliFunction, request, assertProblem, sleep } from './support';
import { PrivatePostgres } from './private-postgres';

type Phase = 'up' | 'down' | 'starting' | 'recovered';

interface Outcome {
  n: number;
  key: string;
  patient: string;
  slotId: string;
  started: Phase;
  ended?: Phase;
  status?: number;
  bookingId?: string;
  error?: string;
  problem?: string;
}

const WORKERS = 6;
const MAX_REQUESTS = 3000;

describe('fault: PostgreSQL restarted under load', function () {
  this.timeout(115_000);
  let server: PrivatePostgres | undefined;
  let fn: CliFunction | undefined;
  let sql: pg.Client | undefined;
  let slots: string[] = [];
  let stopLoad = false;

  before(async () => {
    server = new PrivatePostgres();
    await server.init();
    const url = await server.createDatabase('portal_faults');
    await applyMigrations(new PrismaPg({ connectionString: url, max: 2 }));
    sql = new pg.Client({ connectionString: url });
    sql.on('error', () => undefined); // the restart ends this session too; it is reconnected below
    await sql.connect();
    await sql.query(`INSERT INTO booking_queue.branch (id, name, timezone) VALUES ('hcm-d1', 'District 1', 'Asia/Ho_Chi_Minh')`);
    await sql.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix, duration_minutes) VALUES ('blood-draw', 'Blood draw', 'A', 5)`);
    const { rows } = await sql.query(`
      INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, updated_at)
      SELECT gen_random_uuid(), 'hcm-d1', 'blood-draw', t, t + interval '15 minutes', 1000, now()
      FROM generate_series(date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '1 day 45 minutes', interval '15 minutes') AS t
      RETURNING id`);
    slots = rows.map((r) => r.id as string);
    assert.equal(slots.length, 4);
    await sql.end();
    sql = undefined;

    fn = await new CliFunction('functions/booking-queue/book-slot', await freePort(), {
      DATABASE_URL: url, DATABASE_POOL_SIZE: '8', KAFKA_BROKERS: '',
    }).start();
  });

  after(async () => {
    stopLoad = true;
    await sql?.end().catch(() => undefined);
    await fn?.kill('SIGKILL');
    await server?.destroy();
  });

  it('answers 503 with Retry-After while the database is down, recovers by itself, and keeps every booking whole', async () => {
    const pid = fn!.pid;
    let phase: Phase = 'up';
    let sent = 0;
    const results: Outcome[] = [];

    const book = async (o: Outcome): Promise<Outcome> => {
      try {
        const r = await request(fn!.url, {
          token: patientToken(o.patient), body: { slotId: o.slotId }, headers: { 'idempotency-key': o.key }, timeoutMs: 30_000,
        });
        o.status = r.status;
        if (r.status === 201 || r.status === 200) o.bookingId = r.body.bookingId;
        else {
          try {
            assertProblem(r, `booking ${o.n} (${o.started})`);
            if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) > 0, `booking ${o.n}: 503 without Retry-After`);
          } catch (err) {
            o.problem = (err as Error).message;
          }
        }
      } catch (err) {
        o.error = (err as Error).message;
      }
      o.ended = phase;
      return o;
    };
    const fresh = (): Outcome => {
      const n = sent++;
      return { n, key: `key-${n}`, patient: `p-${n}`, slotId: slots[n % slots.length], started: phase };
    };
    const worker = async () => {
      while (!stopLoad && sent < MAX_REQUESTS) {
        const o = await book(fresh());
        results.push(o);
        if (o.status !== 201) await sleep(50);
      }
    };
    const successesSince = (p: Phase) => results.filter((r) => r.started === p && r.status === 201).length;

    // Load: six patients booking at a time, without pause.
    const load = Array.from({ length: WORKERS }, worker);
    await eventually(() => successesSince('up') >= 30, 'bookings to flow before the restart', 30_000);

    // Fast shutdown under load: the server terminates the open sessions and stops accepting connections.
    await server!.stop('fast');
    phase = 'down';
    const probes: Outcome[] = [];
    for (let i = 0; i < 3; i++) probes.push(await book(fresh()));
    await eventually(() => results.filter((r) => r.started === 'down' && r.ended === 'down').length >= 10, 'the load to meet the outage', 30_000);
    phase = 'starting';
    await server!.start();
    phase = 'recovered';

    // The function was not restarted: it comes back by itself.
    await eventually(() => successesSince('recovered') >= 30, 'bookings to succeed again after the restart', 60_000);
    stopLoad = true;
    await Promise.all(load);
    results.push(...probes);

    assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.n}: ${r.error}`), [], 'every request answered within its bound');
    assert.deepEqual(results.filter((r) => r.problem).map((r) => r.problem), [], 'every error answer is problem+json');
    const statuses = [...new Set(results.map((r) => r.status))].sort();
    assert.ok(statuses.every((s) => s === 201 || s === 503), `only 201 or 503 while PostgreSQL restarts, got ${statuses}:\n${fn!.errors().join('\n')}`);
    for (const p of probes) assert.equal(p.status, 503, `a booking while PostgreSQL is down answers 503 (got ${p.status})`);
    assert.ok(results.filter((r) => r.started === 'down' && r.ended === 'down').every((r) => r.status === 503), 'requests made while the server was down got 503');
    assert.equal(fn!.running, true, `the function is still running:\n${fn!.output()}`);
    assert.equal(fn!.pid, pid, 'the same process');

    // Patients who got 503 retry with the same Idempotency-Key: each gets exactly one booking.
    for (const r of results.filter((x) => x.status === 503)) {
      const retried = await eventually(async () => {
        const o = await book({ ...r, status: undefined, error: undefined, problem: undefined });
        assert.equal(o.error, undefined, o.error);
        return o.status === 503 ? undefined : o;
      }, `booking ${r.n} to succeed on retry`, 30_000, 100);
      assert.ok(retried.status === 201 || retried.status === 200, `retry of ${r.n}: ${retried.status} ${retried.problem ?? ''}`);
      r.status = retried.status;
      r.bookingId = retried.bookingId;
    }

    // Nothing half-written: a booking, its place and its events exist together or not at all.
    sql = new pg.Client({ connectionString: server!.url('portal_faults') });
    sql.on('error', () => undefined);
    await sql.connect();
    // Each request's Idempotency-Key keeps the answer it got, in the same transaction as its booking.
    const bookings = (await sql.query(`
      SELECT b.id, b.slot_id, b.patient_id, r.key AS idempotency_key, b.status FROM booking_queue.booking b
      JOIN booking_queue.idempotency_record r ON r.scope = 'book-slot' AND (r.body->>'bookingId')::uuid = b.id`)).rows;
    assert.equal(bookings.length, results.length, 'one booking per request, after retries');
    assert.equal((await sql.query('SELECT count(*)::int AS n FROM booking_queue.booking')).rows[0].n, results.length, 'no booking without its kept answer');
    const byKey = new Map(bookings.map((b) => [`${b.patient_id}/${b.idempotency_key}`, b]));
    for (const r of results) {
      const b = byKey.get(`${r.patient}/${r.key}`);
      assert.ok(b, `request ${r.n} has its booking`);
      assert.equal(b.id, r.bookingId, `request ${r.n}: the patient was told about the booking that exists`);
      assert.equal(b.slot_id, r.slotId);
    }
    const perSlot = (await sql.query(`
      SELECT s.id, s.booked, count(b.id) FILTER (WHERE b.status <> 'cancelled')::int AS held
      FROM booking_queue.slot s LEFT JOIN booking_queue.booking b ON b.slot_id = s.id GROUP BY s.id, s.booked`)).rows;
    for (const s of perSlot) assert.equal(s.booked, s.held, `slot ${s.id}: booked ${s.booked} but ${s.held} bookings hold a place`);
    const events = (await sql.query(`SELECT type, key, data FROM booking_queue.outbox_event`)).rows;
    const confirmed = new Map<string, number>();
    const allocated = new Map<string, number>();
    for (const e of events) {
      if (e.type === 'com.medlab.booking.confirmed') confirmed.set(e.key, (confirmed.get(e.key) ?? 0) + 1);
      else if (e.type === 'com.medlab.slot.allocated') allocated.set(e.data.bookingId, (allocated.get(e.data.bookingId) ?? 0) + 1);
      else assert.fail(`unexpected event ${e.type}`);
    }
    for (const b of bookings) {
      assert.equal(confirmed.get(b.id), 1, `booking ${b.id}: one booking.confirmed`);
      assert.equal(allocated.get(b.id), 1, `booking ${b.id}: one slot.allocated`);
    }
    assert.equal(events.length, 2 * bookings.length, 'no event without its booking');
    // Places were taken one at a time: per slot, slot.allocated counts 1…n without a gap or a repeat.
    for (const s of perSlot) {
      const booked = events.filter((e) => e.type === 'com.medlab.slot.allocated' && e.key === s.id).map((e) => e.data.booked as number).sort((a, b) => a - b);
      assert.deepEqual(booked, Array.from({ length: s.held }, (_, i) => i + 1), `slot ${s.id}: places 1…${s.held}`);
    }
  });
});
