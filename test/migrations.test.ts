import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newPGlite } from '../scripts/lib/laptop/embedded-db';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { applyMigrations, pendingSchemaSql, MIGRATIONS_DIR } from '../scripts/lib/migrations';
import { createDatabase, dropDatabase } from '../scripts/lib/services';

const committed = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const checksum = (name: string) => createHash('sha256').update(readFileSync(path.join(MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex');

// The last migration of the release where every table sat in one schema; the ones after it move them.
const ONE_SCHEMA_RELEASE = '20261121054906_one_ticket_per_booking';
const movedByUpgrade = committed.filter((n) => n > ONE_SCHEMA_RELEASE);

/** Where each table of the one-schema release lives now. */
const NEW_HOME: Record<string, string> = {
  branch: 'booking_queue', service: 'booking_queue', slot: 'booking_queue', booking: 'booking_queue',
  ticket: 'booking_queue', outbox_event: 'booking_queue', inbox_event: 'booking_queue', dead_letter: 'dead_letter',
};
const ENUM_HOME: Record<string, string> = {
  slot_status: 'booking_queue', booking_status: 'booking_queue', lane: 'booking_queue', ticket_status: 'booking_queue',
};

/** Schemas a table lives in: its system's; the outbox, inbox and idempotency tables in every system that has one. */
const SHARED_TABLES = new Set(['outbox_event', 'inbox_event', 'idempotency_record']);
const homesOf = (table: string, schema: string) => (SHARED_TABLES.has(table) ? ['appointment', 'booking_queue', 'dead_letter', 'notification', 'patient_booking'] : [schema]);

type Query = (sql: string, params?: unknown[]) => Promise<any[]>;
type Database = { factory: () => Parameters<typeof applyMigrations>[0]; query: Query; close(): Promise<void> };

/** A fresh empty database on each engine the bundle runs on: PGlite (laptops) and PostgreSQL (the cluster). */
const engines: { name: string; open(): Promise<Database> }[] = [
  {
    name: 'PGlite',
    async open() {
      const pglite = newPGlite();
      return {
        factory: () => new PrismaPGlite(pglite),
        query: async (sql, params) => (await pglite.query(sql, params)).rows,
        close: () => pglite.close(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const admin = process.env.TEST_PG_ADMIN_URL;
      assert.ok(admin, 'TEST_PG_ADMIN_URL is set by npm test');
      const name = `portal_upgrade_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const url = await createDatabase(admin, name);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        factory: () => new PrismaPg({ connectionString: url }),
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        close: async () => { await client.end(); await dropDatabase(admin, name); },
      };
    },
  },
];

const SLOT_A = '00000000-0000-4000-8000-00000000000a';
const SLOT_B = '00000000-0000-4000-8000-00000000000b';
const booking = (n: number) => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;

/** A day of the one-schema release: every table has rows, and patient-1 holds three active bookings in slot A. */
async function fillOneSchemaRelease(query: Query) {
  await query(`INSERT INTO branch (id, name) VALUES ('hcm-d1', 'District 1'), ('hn-bd', 'Ba Dinh')`);
  await query(`INSERT INTO service (id, name, ticket_prefix, requires_confirmation) VALUES ('blood-draw', 'Blood draw', 'A', false), ('checkup', 'Check-up', 'B', true)`);
  await query(`INSERT INTO slot (id, branch_id, service_id, starts_at, ends_at, capacity, booked, status, updated_at) VALUES
    ('${SLOT_A}', 'hcm-d1', 'blood-draw', '2026-11-23T01:00:00Z', '2026-11-23T01:15:00Z', 7, 5, 'open', '2026-11-21T08:00:00Z'),
    ('${SLOT_B}', 'hn-bd', 'checkup', '2026-11-23T02:00:00Z', '2026-11-23T02:30:00Z', 2, 1, 'closed', '2026-11-21T08:00:00Z')`);
  await query(`INSERT INTO booking (id, slot_id, patient_id, status, idempotency_key, channel, cancel_reason, created_at, updated_at) VALUES
    ('${booking(1)}', '${SLOT_A}', 'patient-1', 'confirmed', 'k1', 'portal', NULL, '2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z'),
    ('${booking(2)}', '${SLOT_A}', 'patient-1', 'checked_in', 'k2', 'portal', NULL, '2026-11-21T09:05:00Z', '2026-11-21T09:05:00Z'),
    ('${booking(3)}', '${SLOT_A}', 'patient-1', 'pending', NULL, 'front-desk', NULL, '2026-11-21T09:10:00Z', '2026-11-21T09:10:00Z'),
    ('${booking(4)}', '${SLOT_A}', 'patient-2', 'cancelled', 'k4', 'portal', 'changed plans', '2026-11-21T09:00:00Z', '2026-11-21T09:30:00Z'),
    ('${booking(5)}', '${SLOT_A}', 'patient-2', 'confirmed', 'k5', 'portal', NULL, '2026-11-21T09:40:00Z', '2026-11-21T09:40:00Z'),
    ('${booking(6)}', '${SLOT_A}', 'patient-3', 'completed', NULL, 'portal', NULL, '2026-11-21T08:00:00Z', '2026-11-21T10:00:00Z'),
    ('${booking(7)}', '${SLOT_A}', 'patient-3', 'confirmed', NULL, 'portal', NULL, '2026-11-21T08:10:00Z', '2026-11-21T08:10:00Z'),
    ('${booking(8)}', '${SLOT_B}', 'patient-1', 'pending', 'k8', 'portal', NULL, '2026-11-21T09:00:00Z', '2026-11-21T09:00:00Z')`);
  await query(`INSERT INTO ticket (id, branch_id, service_id, day, seq, number, lane, status, patient_id, booking_id, counter, updated_at) VALUES
    ('00000000-0000-4000-8000-000000000201', 'hcm-d1', 'blood-draw', '2026-11-23', 1, 'A-001', 'booked', 'called', 'patient-1', '${booking(2)}', '3', '2026-11-23T01:02:00Z'),
    ('00000000-0000-4000-8000-000000000202', 'hcm-d1', 'blood-draw', '2026-11-23', 2, 'A-002', 'walkin', 'waiting', NULL, NULL, NULL, '2026-11-23T01:03:00Z')`);
  await query(`INSERT INTO outbox_event (id, topic, key, type, source, subject, data, published_at, attempts, last_error) VALUES
    ('00000000-0000-4000-8000-000000000301', 'booking-events', '${booking(1)}', 'com.medlab.booking.confirmed', '/booking-queue', '${booking(1)}', '{"bookingId":"${booking(1)}"}', '2026-11-21T09:00:01Z', 1, NULL),
    ('00000000-0000-4000-8000-000000000302', 'slot-events', '${SLOT_A}', 'com.medlab.slot.allocated', '/booking-queue', NULL, '{"slotId":"${SLOT_A}","booked":5}', NULL, 2, 'broker down')`);
  await query(`INSERT INTO inbox_event (source, id, consumer, type) VALUES ('/portal', 'req-1', 'booking-consumer', 'com.medlab.booking.requested')`);
  await query(`INSERT INTO dead_letter (id, event_id, event_source, event_type, topic, error_dest, error_code, error_data, reason, event) VALUES
    ('00000000-0000-4000-8000-000000000401', 'req-9', '/portal', 'com.medlab.booking.requested', 'booking-requests', 'http://booking-consumer', 500, 'b29wcw==', 'poison', '{"specversion":"1.0"}')`);
}

/** Every row of a table, whole, in a stable order. */
const rowsOf = (query: Query, table: string) =>
  query(`SELECT to_jsonb(t) AS row FROM ${table} t ORDER BY to_jsonb(t)::text`).then((rows) => rows.map((r) => r.row));

const schemaOf = async (query: Query, kind: 'table' | 'type', name: string): Promise<string[]> =>
  kind === 'table'
    ? (await query('SELECT schemaname AS s FROM pg_tables WHERE tablename = $1 ORDER BY 1', [name])).map((r) => r.s)
    : (await query(`SELECT nspname AS s FROM pg_type JOIN pg_namespace n ON n.oid = typnamespace WHERE typname = $1 AND typtype = 'e' ORDER BY 1`, [name])).map((r) => r.s);

async function assertRecorded(query: Query, names: string[]) {
  const rows = await query('SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name, started_at');
  assert.deepEqual(rows.map((r) => r.migration_name), names, 'each migration recorded once');
  for (const r of rows) {
    assert.equal(r.checksum, checksum(r.migration_name), `${r.migration_name} checksum is sha256 of its file`);
    assert.ok(r.finished_at, `${r.migration_name} finished`);
    assert.equal(r.rolled_back_at, null);
    assert.equal(r.applied_steps_count, 1);
  }
}

describe('migrations (offline WASM schema engine)', () => {
  it('the committed migrations describe the current prisma/schema/ files (no migration forgotten)', async () => {
    assert.equal(await pendingSchemaSql(), '');
  }).timeout(120_000); // CPU-bound WASM schema diff: 22 s alone, twice that beside parallel workers on 2 cores

  for (const engine of engines) {
    describe(`on ${engine.name}`, () => {
      it('apply to a fresh database once, each system in its own schema, recorded in _prisma_migrations as prisma migrate deploy does', async () => {
        const db = await engine.open();
        try {
          assert.deepEqual(await applyMigrations(db.factory()), committed);
          assert.deepEqual(await applyMigrations(db.factory()), [], 'a second run applies nothing');
          await assertRecorded(db.query, committed);
          for (const [table, schema] of Object.entries({ ...NEW_HOME, idempotency_record: 'booking_queue' })) {
            assert.deepEqual(await schemaOf(db.query, 'table', table), homesOf(table, schema), `${table} lives in ${schema}, never in public`);
          }
          for (const [type, schema] of Object.entries(ENUM_HOME)) assert.deepEqual(await schemaOf(db.query, 'type', type), [schema], `${type} lives in ${schema}`);
        } finally {
          await db.close();
        }
      });

      it('upgrading a one-schema database keeps every row, moved into its system\'s schema', async () => {
        const db = await engine.open();
        try {
          assert.deepEqual(await applyMigrations(db.factory(), { through: ONE_SCHEMA_RELEASE }), committed.filter((n) => n <= ONE_SCHEMA_RELEASE));
          await fillOneSchemaRelease(db.query);
          const before: Record<string, unknown[]> = {};
          for (const table of Object.keys(NEW_HOME)) before[table] = await rowsOf(db.query, `public.${table}`);

          assert.ok(movedByUpgrade.length > 0);
          assert.deepEqual(await applyMigrations(db.factory()), movedByUpgrade);
          await assertRecorded(db.query, committed);

          for (const [table, schema] of Object.entries(NEW_HOME)) {
            assert.deepEqual(await schemaOf(db.query, 'table', table), homesOf(table, schema), `${table} moved to ${schema}, none left behind`);
            if (table === 'booking' || table === 'slot') continue;
            // Columns later migrations added take their defaults on the rows already there: the outbox's trace
            // context is null; a dead letter kept so far was seen once, when it arrived, with no source or consumer named.
            const added = (r: Record<string, unknown>) => (table === 'outbox_event' ? { traceparent: null, tracestate: null }
              : table === 'dead_letter' ? {
                attempts: 1, consumer: null, fingerprint: '', kafka_source: null, truncated: false, last_seen_at: r.received_at, error_dest: r.error_dest ?? '',
                system: 'unknown', partition: null, kafka_offset: null, record_key: null, status: 'open', status_reason: null, status_by: null,
                status_at: (r as { status_at?: unknown }).status_at, resolution: null, retries: 0, next_retry_at: null,
              } : {});
            if (table === 'dead_letter') {
              for (const row of await rowsOf(db.query, 'dead_letter.dead_letter') as Array<Record<string, unknown>>) (before.dead_letter.find((b) => (b as { id: unknown }).id === row.id) as Record<string, unknown>).status_at = row.status_at;
            }
            assert.deepEqual(await rowsOf(db.query, `${schema}.${table}`), before[table].map((r) => ({ ...(r as Record<string, unknown>), ...added(r as Record<string, unknown>) })), `every ${table} row kept as it was`);
          }
          for (const [type, schema] of Object.entries(ENUM_HOME)) assert.deepEqual(await schemaOf(db.query, 'type', type), [schema], `${type} moved to ${schema}`);

          // patient-1 held three active bookings in slot A: the checked-in one stays, the other two are
          // cancelled and give their places back; every other booking is untouched.
          const bookings = await rowsOf(db.query, 'booking_queue.booking');
          assert.equal(bookings.length, before.booking.length, 'no booking row lost');
          const resolved = new Set([booking(1), booking(3)]);
          for (const row of bookings as any[]) {
            const old = (before.booking as any[]).find((b) => b.id === row.id);
            if (!resolved.has(row.id)) { assert.deepEqual(row, old, `booking ${row.id} untouched`); continue; }
            assert.equal(row.status, 'cancelled');
            assert.match(row.cancel_reason, /duplicate/);
            assert.deepEqual({ ...row, status: old.status, cancel_reason: null, updated_at: old.updated_at }, old, 'only status, reason and updated_at change');
          }
          const slots = (await rowsOf(db.query, 'booking_queue.slot')) as any[];
          const slotA = slots.find((s) => s.id === SLOT_A);
          const oldSlotA = (before.slot as any[]).find((s) => s.id === SLOT_A);
          assert.equal(slotA.booked, 3, 'slot A gives back the two places');
          assert.deepEqual({ ...slotA, booked: oldSlotA.booked, updated_at: oldSlotA.updated_at }, oldSlotA, 'slot A changes only its count');
          assert.deepEqual(slots.find((s) => s.id === SLOT_B), (before.slot as any[]).find((s) => s.id === SLOT_B), 'slot B untouched');

          // The moved outbox keeps its sequence: the next event is numbered after the old ones.
          const [{ seq }] = await db.query(`INSERT INTO booking_queue.outbox_event (id, topic, key, type, source, data)
            VALUES ('00000000-0000-4000-8000-000000000303', 'slot-events', 'k', 't', '/booking-queue', '{}') RETURNING seq::int AS seq`);
          assert.equal(seq, 3);
          assert.deepEqual(await applyMigrations(db.factory()), [], 'nothing left to apply');
        } finally {
          await db.close();
        }
      });

      it('a migration that fails part-way changes nothing and is recorded as failed, as prisma migrate deploy does', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
        const db = await engine.open();
        try {
          cpSync(MIGRATIONS_DIR, dir, { recursive: true });
          mkdirSync(path.join(dir, '99991231000000_broken'));
          // A ';' inside a comment and a literal too: the script must reach PostgreSQL whole, not cut at each ';'.
          writeFileSync(path.join(dir, '99991231000000_broken', 'migration.sql'),
            "-- first a table; then a failure\nCREATE TABLE booking_queue.half_done (note text DEFAULT 'a;b');\nUPDATE booking_queue.slot SET capacity = 0;\nSELECT 1/0;\n");
          await assert.rejects(applyMigrations(db.factory(), { dir }), /division by zero/);
          assert.deepEqual(await schemaOf(db.query, 'table', 'half_done'), [], 'the first statement was rolled back');
          const rows = await db.query('SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name');
          assert.deepEqual(rows.map((r) => r.migration_name), [...committed, '99991231000000_broken']);
          assert.equal(rows.at(-1).finished_at, null, 'recorded as failed');
        } finally {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('the database refuses a second active booking of one patient in one slot, and allows one after cancellation', async () => {
        const db = await engine.open();
        try {
          await applyMigrations(db.factory());
          await db.query(`INSERT INTO booking_queue.branch (id, name) VALUES ('hcm-d1', 'District 1')`);
          await db.query(`INSERT INTO booking_queue.service (id, name, ticket_prefix) VALUES ('blood-draw', 'Blood draw', 'A')`);
          await db.query(`INSERT INTO booking_queue.slot (id, branch_id, service_id, starts_at, ends_at, capacity, updated_at)
            VALUES ('${SLOT_A}', 'hcm-d1', 'blood-draw', '2026-11-23T01:00:00Z', '2026-11-23T01:15:00Z', 7, now())`);
          const book = (n: number, patient: string, status: string) => db.query(`INSERT INTO booking_queue.booking (id, slot_id, patient_id, status, updated_at)
            VALUES ('${booking(n)}', '${SLOT_A}', '${patient}', '${status}', now())`);
          const refused = async (attempt: Promise<unknown>) => {
            await assert.rejects(attempt, (err: any) => {
              assert.equal(err.code, '23505', 'unique violation');
              assert.match(String(err.constraint ?? err.message), /booking_one_active_per_patient_slot/);
              return true;
            });
          };

          await book(1, 'patient-1', 'confirmed');
          await refused(book(2, 'patient-1', 'pending'));
          await refused(book(2, 'patient-1', 'confirmed'));
          await refused(book(2, 'patient-1', 'checked_in'));
          await book(2, 'patient-2', 'confirmed'); // another patient, same slot

          await db.query(`UPDATE booking_queue.booking SET status = 'cancelled' WHERE id = '${booking(1)}'`);
          await book(3, 'patient-1', 'pending');
          await refused(db.query(`UPDATE booking_queue.booking SET status = 'confirmed' WHERE id = '${booking(1)}'`));

          await db.query(`UPDATE booking_queue.booking SET status = 'completed' WHERE id = '${booking(3)}'`);
          await book(4, 'patient-1', 'checked_in');
          const active = await db.query(`SELECT id FROM booking_queue.booking WHERE patient_id = 'patient-1' AND status IN ('pending', 'confirmed', 'checked_in')`);
          assert.deepEqual(active.map((r) => r.id), [booking(4)]);
        } finally {
          await db.close();
        }
      });
    });
  }
});
