import { strict as assert } from 'node:assert';
import { transaction } from '../shared/outbox';
import { db } from '../shared/db';
import { eventually, published, resetDatabase } from '../../test/support/fixtures';
import { seedReport } from '../../test/support/reports';
import { releaseReport } from './release';
import { system } from './system';

describe('releaseReport', () => {
  beforeEach(resetDatabase);

  it('two releases of one held report at once (the cron and a clinician) tell the patient once and audit one release', async () => {
    const report = await seedReport({ patientId: 'P-race', accession: 'ACC-RACE', code: 'HIVAGAB', status: 'final', releaseState: 'held', observations: [{ code: 'HIVAGAB', value: 'negative' }] });
    const at = new Date();
    const release = (actor: string) => transaction(system, '/test', (tx, emit) => releaseReport(tx, emit, report.id, { actor, reason: 'reviewed', at }));
    // Both read the held report, then queue on its row (held by a third transaction) before either writes.
    let open!: () => void;
    let taken!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const rowTaken = new Promise<void>((resolve) => { taken = resolve; });
    const holder = db().$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE patient_booking.diagnostic_report SET updated_at = now() WHERE id = ${report.id}::uuid`;
      taken();
      await gate;
    });
    await rowTaken;
    const both = Promise.all([release('system:patient-booking-cron'), release('staff:dr-lan')]);
    await eventually(async () => (await db().$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0].n >= 2, 'both releases waiting on the report');
    open();
    await holder;
    assert.deepEqual((await both).sort(), [false, true]);
    const events = (await published('result-events')).filter((e) => e.data.reportId === report.id);
    assert.equal(events.length, 1);
    assert.equal(await db().resultAudit.count({ where: { reportId: report.id, action: 'released' } }), 1);
  });
});
