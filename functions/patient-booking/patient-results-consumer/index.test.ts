import { strict as assert } from 'node:assert';
import * as lane from './index';
import * as cronFn from '../cron/index';
import { db } from '../../shared/db';
import { CORRECTION_BEFORE_FINAL } from '../release';
import { call, deliver, published, resetDatabase, startFunction, type RunningFunction } from '../../../test/support/fixtures';
import { chemistry, hivScreen, laneEvent, seedPatient, seedResultCatalogue, type OruReport } from '../../../test/support/results';

const TYPE = 'com.medlab.result.received';
const HOUR = 3_600_000;

describe('patient-results-consumer (the standard lane: store, release rules, result.released)', () => {
  let fn: RunningFunction;
  let cron: RunningFunction;
  before(async () => { [fn, cron] = await Promise.all([startFunction(lane), startFunction(cronFn)]); });
  after(async () => { await fn.close(); await cron.close(); });
  beforeEach(async () => { await resetDatabase(); await seedResultCatalogue(); await seedPatient('P-1'); });

  const send = async (report: OruReport, opts: { id?: string; controlId?: string } = {}) => {
    const res = await deliver(fn.url, { type: TYPE, id: opts.id, data: laneEvent('P-1', report, { controlId: opts.controlId }) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const stored = (code = 'CHEM7') => db().diagnosticReport.findUniqueOrThrow({ where: { accession_code: { accession: 'ACC-1', code } } });
  const released = async () => (await published('result-events')).filter((e) => e.type === 'com.medlab.result.released').map((e) => e.data);
  const trail = async (reportId: string) => (await db().resultAudit.findMany({ where: { reportId }, orderBy: { id: 'asc' } })).map((a) => [a.action, a.actor, a.version]);
  const ping = (now: Date) => call(cron.url, { method: 'POST', raw: JSON.stringify({ job: 'minute', now: now.toISOString() }), headers: { 'content-type': 'application/json' } });

  it('a final report is stored with its observations and released at once: result.released (ids and codes only) and the audit trail', async () => {
    await send(chemistry('ACC-1'));
    const report = await stored();
    assert.deepEqual([report.status, report.version, report.releaseState, report.releasedVersion, report.lane, report.critical], ['final', 1, 'released', 1, 'standard', false]);
    const observations = await db().observation.findMany({ where: { reportId: report.id }, orderBy: { seq: 'asc' } });
    assert.deepEqual(observations.map((o) => [o.code, o.valueNumber, o.unit, o.referenceLow, o.referenceHigh]), [['K', 4.2, 'mmol/L', 3.5, 5], ['GLU', 5.4, 'mmol/L', 3.9, 6.1]]);
    const [event] = await released();
    assert.deepEqual(event, { reportId: report.id, patientId: 'P-1', accession: 'ACC-1', status: 'final', releasedAt: report.releasedAt!.toISOString() });
    assert.deepEqual(await trail(report.id), [['received', 'system:patient-results-consumer', 1], ['released', 'system:patient-results-consumer', 1]]);
    assert.equal((await db().resultAudit.findFirstOrThrow({ where: { action: 'released' } })).reason, 'released on arrival');
  });

  it('the same event twice, or the same report resent under another control id, stores one version and releases once', async () => {
    await send(chemistry('ACC-1'), { id: 'evt-1' });
    assert.equal((await send(chemistry('ACC-1'), { id: 'evt-1' })).status, 'duplicate');
    assert.equal((await send(chemistry('ACC-1'), { id: 'evt-2', controlId: 'RESEND-1' })).result.outcome, 'unchanged');
    assert.deepEqual([(await stored()).version, (await released()).length, await db().observation.count()], [1, 1, 2]);
  });

  it('a sensitive test (catalogue category hiv) is held for a clinician; the cron releases it at its automatic release time, not before', async () => {
    const before = Date.now();
    await send(hivScreen('ACC-1'));
    const held = await stored('HIVAGAB');
    assert.deepEqual([held.releaseState, held.critical], ['held', false]);
    assert.match(held.holdReason!, /sensitive test/);
    const due = held.releaseDueAt!.getTime();
    assert.ok(due >= before + 72 * HOUR && due <= Date.now() + 72 * HOUR, 'due 72 h after arrival (the policy\'s autoReleaseHours)');
    assert.equal((await released()).length, 0);

    assert.equal((await ping(new Date(due - 60_000))).body.autoReleased, 0);
    assert.equal((await stored('HIVAGAB')).releaseState, 'held');
    assert.equal((await ping(new Date(due + 30_000))).body.autoReleased, 1);
    assert.equal((await ping(new Date(due + 90_000))).body.autoReleased, 0, 'released once');
    assert.equal((await stored('HIVAGAB')).releaseState, 'released');
    assert.equal((await released()).length, 1);
    assert.deepEqual((await trail(held.id)).map(([action, actor]) => [action, actor]), [
      ['received', 'system:patient-results-consumer'], ['held', 'system:patient-results-consumer'], ['auto-released', 'system:patient-booking-cron'],
    ]);
  });

  it('a critical value (flagged HH, or past the policy\'s limit unflagged) is held until the call is recorded; the cron never releases it', async () => {
    await send(chemistry('ACC-1', { observations: [{ code: 'K', value: '6.9', unit: 'mmol/L', range: '3.5-5.0', flags: ['HH'] }] }));
    await send(chemistry('ACC-2', { observations: [{ code: 'GLU', value: '1.9', unit: 'mmol/L', range: '3.9-6.1', flags: ['L'] }] }));
    for (const accession of ['ACC-1', 'ACC-2']) {
      const held = await db().diagnosticReport.findUniqueOrThrow({ where: { accession_code: { accession, code: 'CHEM7' } } });
      assert.deepEqual([held.releaseState, held.critical, held.releaseDueAt], ['held', true, null], accession);
      assert.match(held.holdReason!, /critical value \((K|GLU)\)/);
    }
    assert.equal((await ping(new Date(Date.now() + 365 * 24 * HOUR))).body.autoReleased, 0);
    assert.equal((await released()).length, 0);
  });

  it('a limit holds only in its own unit: a fasting glucose of 92 mg/dL is released, 30 mg/dL is held as critical', async () => {
    await send(chemistry('ACC-1', { observations: [{ code: 'GLU', loinc: '2345-7', value: '92', unit: 'mg/dL', range: '70-99' }] }));
    await send(chemistry('ACC-2', { observations: [{ code: 'GLU', loinc: '2345-7', value: '30', unit: 'mg/dL', range: '70-99', flags: ['L'] }] }));
    const state = async (accession: string) => (await db().diagnosticReport.findUniqueOrThrow({ where: { accession_code: { accession, code: 'CHEM7' } } }));
    assert.deepEqual([(await state('ACC-1')).releaseState, (await state('ACC-1')).critical], ['released', false]);
    assert.deepEqual([(await state('ACC-2')).releaseState, (await state('ACC-2')).critical], ['held', true]);
  });

  it('an amendment after release is version 2, released again as amended; version 1\'s observations are kept', async () => {
    await send(chemistry('ACC-1'));
    const amended = chemistry('ACC-1', { observations: [{ code: 'K', value: '4.6', unit: 'mmol/L', range: '3.5-5.0', status: 'A' }, { code: 'GLU', value: '5.4', unit: 'mmol/L', range: '3.9-6.1' }] });
    await send(amended);
    const report = await stored();
    assert.deepEqual([report.status, report.version, report.releaseState, report.releasedVersion], ['amended', 2, 'released', 2]);
    assert.deepEqual((await released()).map((e) => e.status), ['final', 'amended']);
    const k = await db().observation.findMany({ where: { reportId: report.id, code: 'K' }, orderBy: { reportVersion: 'asc' } });
    assert.deepEqual(k.map((o) => [o.reportVersion, o.valueNumber, o.status]), [[1, 4.2, 'final'], [2, 4.6, 'amended']]);
    assert.deepEqual((await trail(report.id)).map(([action, , v]) => `${action}:${v}`), ['received:1', 'released:1', 'received:2', 'amended:2', 'released:2']);
  });

  it('a preliminary report is stored pending and not released; the final releases it; a preliminary arriving after the final changes nothing', async () => {
    await send(chemistry('ACC-1', { status: 'P' }));
    assert.equal((await stored()).releaseState, 'pending');
    assert.equal((await released()).length, 0);
    await send(chemistry('ACC-1'));
    assert.deepEqual([(await stored()).releaseState, (await stored()).version], ['released', 2]);
    const late = await send(chemistry('ACC-1', { status: 'P', observations: [{ code: 'K', value: '4.0', unit: 'mmol/L' }] }));
    assert.equal(late.result.outcome, 'stale');
    assert.deepEqual([(await stored()).status, (await stored()).version, (await stored()).releaseState], ['final', 2, 'released']);
    assert.match((await db().resultAudit.findFirstOrThrow({ where: { action: 'refused' } })).reason!, /out of order: preliminary after final/);
  });

  it('a correction before any final is stored and held for a clinician (never released by the cron); the late final is refused as out of order', async () => {
    await send(chemistry('ACC-1', { status: 'C' }));
    const held = await stored();
    assert.deepEqual([held.status, held.releaseState, held.holdReason, held.releaseDueAt], ['corrected', 'held', CORRECTION_BEFORE_FINAL, null]);
    assert.equal((await send(chemistry('ACC-1'))).result.outcome, 'stale');
    // A second correction is still one nobody has checked against a final.
    await send(chemistry('ACC-1', { status: 'C', observations: [{ code: 'K', value: '4.4', unit: 'mmol/L' }] }));
    assert.deepEqual([(await stored()).version, (await stored()).releaseState, (await stored()).holdReason], [2, 'held', CORRECTION_BEFORE_FINAL]);
    assert.equal((await ping(new Date(Date.now() + 365 * 24 * HOUR))).body.autoReleased, 0);
    assert.equal((await released()).length, 0);
  });

  it('a report cancelled after release is withdrawn from view (withheld, audited), with no new release', async () => {
    await send(chemistry('ACC-1'));
    await send(chemistry('ACC-1', { status: 'X', observations: [] }));
    const report = await stored();
    assert.deepEqual([report.status, report.releaseState, report.holdReason], ['cancelled', 'withheld', 'cancelled by the lab']);
    assert.equal((await released()).length, 1);
    assert.deepEqual((await trail(report.id)).at(-1), ['withheld', 'system:patient-results-consumer', 2]);
  });

  it('refuses data that breaks the lane contract with a 400 naming the field (dead-lettered, never retried)', async () => {
    const res = await deliver(fn.url, { type: TYPE, data: { ...laneEvent('P-1', chemistry('ACC-1')), tier: 'gold' } });
    assert.equal(res.status, 400);
    assert.equal(res.body['invalid-params'][0].name, 'data/tier');
  });
});
