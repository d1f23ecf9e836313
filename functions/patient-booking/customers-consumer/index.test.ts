import { strict as assert } from 'node:assert';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, published, resetDatabase, type RunningFunction } from '../../../test/support/fixtures';
import { releasedResult } from '../../../test/support/catalogue';

const UPDATED = 'com.medlab.crm.customer-updated';
const ERASED = 'com.medlab.crm.customer-erased';

describe('customers-consumer (crm-customers → the profile copy; erasure)', () => {
  let consumer: RunningFunction;
  before(async () => { consumer = await startFunction(fn); });
  after(async () => consumer.close());
  beforeEach(resetDatabase);

  const profile = (patientId = 'patient-1') => db().patient.findUnique({ where: { patientId } });
  const erasedEvents = async () => (await published('patient-events')).filter((e) => e.type === 'com.medlab.patient.erased');

  it('keeps only tier, language, zone, sex and birth date, newest version first: older or equal versions arriving late change nothing', async () => {
    const v1 = { patientId: 'patient-1', version: 1, email: 'an@example.com', phone: '+84901234567', fullName: 'Nguyễn Văn An', language: 'vi', timezone: 'Asia/Ho_Chi_Minh', tier: 'standard', sex: 'male', birthDate: '1974-03-15' };
    const v3 = { ...v1, version: 3, tier: 'svip1', language: 'en' };
    const v2 = { ...v1, version: 2, tier: 'svip2', birthDate: '1980-01-01' };
    for (const data of [v1, v3, v2]) assert.equal((await deliver(consumer.url, { type: UPDATED, data })).status, 200);
    const same = await deliver(consumer.url, { type: UPDATED, data: { ...v3, tier: 'standard' } });
    assert.deepEqual(same.body.result, { patientId: 'patient-1', version: 3, applied: false });
    const p = await profile();
    assert.deepEqual([p!.tier, p!.language, p!.sex, p!.birthDate?.toISOString().slice(0, 10), p!.crmVersion], ['svip1', 'en', 'male', '1974-03-15', 3n]);
    // Nothing of the name or the contacts is kept anywhere in the row.
    const row = JSON.stringify(await db().$queryRaw`SELECT * FROM patient_booking.patient`, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    for (const phi of ['an@example.com', '+84901234567', 'Nguyễn']) assert.ok(!row.includes(phi), `${phi} was stored`);
    // A newer update that leaves a field out keeps it.
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 4, timezone: 'Asia/Bangkok' } });
    const after4 = await profile();
    assert.deepEqual([after4!.timezone, after4!.tier, after4!.sex], ['Asia/Bangkok', 'svip1', 'male']);
  });

  it('erasure anonymises the profile, detaches every result with an audit line, deletes recommendations and emits patient.erased once', async () => {
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 5, tier: 'svip2', sex: 'female', birthDate: '1990-07-01', language: 'en' } });
    const at = new Date('2026-10-01T02:00:00Z');
    const a = await releasedResult('patient-1', 'HBA1C', 6.1, at);
    const b = await releasedResult('patient-1', 'CHOL', 230, at);
    const other = await releasedResult('patient-2', 'HBA1C', 5.2, at);
    await db().recommendation.create({ data: { patientId: 'patient-1', packageCode: 'DIABETES', rank: 1, score: 60, reasons: [], rulesVersion: 'r1' } });
    await db().recommendation.create({ data: { patientId: 'patient-2', packageCode: 'LIPID', rank: 1, score: 20, reasons: [], rulesVersion: 'r1' } });

    const res = await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-1', version: 6, requestedAt: '2026-12-07T01:00:00Z' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { patientId: 'patient-1', erased: true, detachedReports: 2, removed: { recommendations: 1 } });

    const p = await profile();
    assert.ok(p!.erasedAt);
    assert.deepEqual([p!.sex, p!.birthDate, p!.tier, p!.language], [null, null, 'standard', 'vi']);
    const reports = await db().diagnosticReport.findMany({ where: { id: { in: [a.id, b.id, other.id] } }, orderBy: { code: 'asc' } });
    assert.deepEqual(reports.map((r) => [r.patientId, !!r.detachedAt]).sort(), [['patient-1', true], ['patient-1', true], ['patient-2', false]]);
    const audits = await db().resultAudit.findMany({ where: { action: 'detached' } });
    assert.deepEqual(audits.map((x) => [x.reportId, x.actor]).sort(), [[a.id, 'system:patient-booking-customers-consumer'], [b.id, 'system:patient-booking-customers-consumer']].sort());
    assert.deepEqual(await db().recommendation.findMany({ select: { patientId: true } }), [{ patientId: 'patient-2' }]);

    const events = await erasedEvents();
    assert.equal(events.length, 1);
    assert.deepEqual(Object.keys(events[0].data).sort(), ['erasedAt', 'patientId']);
    assert.equal(events[0].key, 'patient-1');

    // The CRM sends the erasure again (another event id): nothing more happens, nothing more is told.
    const again = await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-1', version: 7 } });
    assert.deepEqual(again.body.result, { patientId: 'patient-1', erased: true, already: true });
    assert.equal((await erasedEvents()).length, 1);
    assert.equal(await db().resultAudit.count({ where: { action: 'detached' } }), 2);
  });

  it('after an erasure no update brings data back, older or newer', async () => {
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version: 2, sex: 'male', birthDate: '1974-03-15' } });
    await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-1', version: 3 } });
    for (const version of [2, 9]) {
      const res = await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-1', version, sex: 'male', birthDate: '1974-03-15', tier: 'svip1' } });
      assert.equal(res.body.result.applied, false);
    }
    const p = await profile();
    assert.deepEqual([p!.sex, p!.birthDate, p!.tier, !!p!.erasedAt], [null, null, 'standard', true]);
  });

  it('an erasure of a customer never seen leaves a tombstone (and is still told), so an update sent before it cannot create them later', async () => {
    await deliver(consumer.url, { type: ERASED, data: { patientId: 'patient-9', version: 2 } });
    await deliver(consumer.url, { type: UPDATED, data: { patientId: 'patient-9', version: 1, sex: 'female', birthDate: '2000-01-01' } });
    const p = await profile('patient-9');
    assert.deepEqual([p!.sex, p!.birthDate, !!p!.erasedAt, p!.crmVersion], [null, null, true, 2n]);
    assert.equal((await erasedEvents()).length, 1);
  });
});
