import { strict as assert } from 'node:assert';
import * as consumer from './index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, published, type RunningFunction } from '../../../test/support/fixtures';
import { chemistry, deliverHl7, hivScreen, oru, seedPackageBooking, seedPatient, seedResultCatalogue, seedResultOrder, seedVisit } from '../../../test/support/results';

describe('lis-results-consumer (KafkaSource on lis-results, HL7 v2 ORU^R01)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(consumer); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedResultCatalogue(); });

  const lane = async (topic: string) => published(topic);
  const lanes = async () => ({ standard: await lane('patient-results'), svip1: await lane('patient-results-svip1'), svip2: await lane('patient-results-svip2') });

  it('routes each report to the lane of its patient\'s tier, keyed by accession, with its codes, values and the message it came from', async () => {
    for (const [patientId, tier] of [['P-STD', 'standard'], ['P-V1', 'svip1'], ['P-V2', 'svip2']] as const) {
      await seedPatient(patientId, tier);
      await seedResultOrder(`ACC-${patientId}`, patientId);
      const res = await deliverHl7(fn.url, oru(patientId, [chemistry(`ACC-${patientId}`), hivScreen(`ACC-${patientId}`)], { control: `CTRL-${patientId}` }));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.result.reports.map((r: { lane: string }) => r.lane), [tier, tier]);
    }
    const routed = await lanes();
    assert.deepEqual(routed.standard.map((e) => [e.type, e.key, e.data.report.code]), [['com.medlab.result.received', 'ACC-P-STD', 'CHEM7'], ['com.medlab.result.received', 'ACC-P-STD', 'HIVAGAB']]);
    assert.deepEqual(routed.svip1.map((e) => [e.type, e.key]), [['com.medlab.result.received-svip1', 'ACC-P-V1'], ['com.medlab.result.received-svip1', 'ACC-P-V1']]);
    assert.deepEqual(routed.svip2.map((e) => [e.type, e.data.tier]), [['com.medlab.result.received-svip2', 'svip2'], ['com.medlab.result.received-svip2', 'svip2']]);
    const [first] = routed.svip2;
    assert.deepEqual(first.data.message, { sender: 'LIS|MEDLAB-HCM', controlId: 'CTRL-P-V2', index: 1 });
    assert.deepEqual(first.data.report.observations[0], {
      seq: 1, code: 'K', loinc: '2823-3', display: 'Potassium', valueType: 'NM', value: 4.2, unit: 'mmol/L',
      referenceRange: { low: 3.5, high: 5, text: '3.5-5.0' }, status: 'final', effectiveAt: '2026-12-08T01:15:00.000Z',
    });
  });

  it('a new accession whose placer order number (OBR-2) is the patient\'s package booking or visit is remembered with it', async () => {
    await seedPatient('P-1');
    const booking = await seedPackageBooking('P-1');
    const visit = await seedVisit('P-1');
    assert.equal((await deliverHl7(fn.url, oru('P-1', [chemistry('ACC-PKG', { placer: booking.id })]))).status, 200);
    assert.equal((await deliverHl7(fn.url, oru('P-1', [chemistry('ACC-VIS', { placer: visit.appointmentId })]))).status, 200);
    assert.deepEqual(await db().resultOrder.findUnique({ where: { accession: 'ACC-PKG' }, select: { patientId: true, packageBookingId: true } }), { patientId: 'P-1', packageBookingId: booking.id });
    assert.equal((await db().resultOrder.findUniqueOrThrow({ where: { accession: 'ACC-VIS' } })).appointmentId, visit.appointmentId);
    const routed = (await lanes()).standard.sort((a, b) => String(a.key).localeCompare(String(b.key)));
    assert.deepEqual(routed.map((e) => [e.key, e.data.packageBookingId, e.data.appointmentId, e.data.orderNumber]), [['ACC-PKG', booking.id, undefined, booking.id], ['ACC-VIS', undefined, visit.appointmentId, visit.appointmentId]]);
    // A correction later names only the accession: it finds the same order.
    assert.equal((await deliverHl7(fn.url, oru('P-1', [chemistry('ACC-PKG', { status: 'C' })]))).status, 200);
    const correction = (await lanes()).standard.find((e) => e.data.report.status === 'corrected');
    assert.deepEqual([correction?.key, correction?.data.packageBookingId], ['ACC-PKG', booking.id]);
  });

  it('refuses with 422 naming the field, routing nothing: an unknown order, another patient\'s order, an unknown or erased patient', async () => {
    await seedPatient('P-1');
    await seedPatient('P-2');
    await seedPatient('P-GONE', 'standard', { erasedAt: new Date() });
    await seedResultOrder('ACC-1', 'P-1');
    await seedResultOrder('ACC-GONE', 'P-GONE');
    const otherBooking = await seedPackageBooking('P-2');
    const cases: Array<[string, string, RegExp]> = [
      [oru('P-1', [chemistry('ACC-404')]), 'hl7/OBR-3', /ACC-404 is not known/],
      [oru('P-1', [chemistry('ACC-405', { placer: crypto.randomUUID() })]), 'hl7/OBR-3', /names no package booking or visit/],
      [oru('P-2', [chemistry('ACC-1')]), 'hl7/PID-3', /not PID-3's/],
      [oru('P-1', [chemistry('ACC-406', { placer: otherBooking.id })]), 'hl7/PID-3', /not PID-3's/],
      [oru('P-GONE', [chemistry('ACC-GONE')]), 'hl7/PID-3', /erased/],
    ];
    for (const [message, field, reason] of cases) {
      const res = await deliverHl7(fn.url, message);
      assert.equal(res.status, 422, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body['invalid-params'][0].name, field);
      assert.match(res.body.detail, reason);
    }
    await db().resultOrder.create({ data: { accession: 'ACC-NOBODY', patientId: 'P-NEW' } });
    const unknown = await deliverHl7(fn.url, oru('P-NEW', [chemistry('ACC-NOBODY')]));
    assert.deepEqual([unknown.status, unknown.body['invalid-params'][0].name], [422, 'hl7/PID-3']);
    assert.match(unknown.body.detail, /not known here yet/);
    const routed = await lanes();
    assert.equal(routed.standard.length + routed.svip1.length + routed.svip2.length, 0);
    assert.equal(await db().resultOrder.count({ where: { accession: 'ACC-406' } }), 0);
    assert.equal(await db().hl7Message.count(), 0, 'a refused message is not remembered: redriven after a fix, it applies');
  });

  it('a result in another unit than its catalogue test\'s (or a number with none) is refused naming OBX-6; the whole message with it', async () => {
    await seedPatient('P-1');
    await seedResultOrder('ACC-1', 'P-1');
    const mgdl = chemistry('ACC-1', { observations: [{ code: 'K', value: '4.2', unit: 'mmol/L' }, { code: 'GLU', value: '97', unit: 'mg/dL' }] });
    const res = await deliverHl7(fn.url, oru('P-1', [hivScreen('ACC-1'), mgdl]));
    assert.deepEqual([res.status, res.body['invalid-params'][0].name], [422, 'hl7/OBX-6']);
    assert.match(res.body.detail, /GLU.*"mg\/dL".*"mmol\/L"/);
    const unitless = await deliverHl7(fn.url, oru('P-1', [chemistry('ACC-1', { observations: [{ code: 'K', value: '4.2' }] })]));
    assert.deepEqual([unitless.status, unitless.body['invalid-params'][0].name], [422, 'hl7/OBX-6']);
    assert.equal((await lanes()).standard.length, 0);
  });

  it('a message that cannot be read is a 400 naming the HL7 field, never a 500', async () => {
    await seedPatient('P-1');
    await seedResultOrder('ACC-1', 'P-1');
    const cases: Array<[string, string]> = [
      [oru('P-1', [chemistry('ACC-1', { observations: [{ code: 'K', value: 'four', unit: 'mmol/L' }] })]), 'hl7/OBX-5'],
      [oru('P-1', [chemistry('ACC-1', { status: 'Z' })]), 'hl7/OBR-25'],
      [oru('P-1', [chemistry('ACC-1')]).replace('ORU^R01^ORU_R01', 'ADT^A01'), 'hl7/MSH-9'],
      ['OBX|1|NM|K||4.2', 'hl7/MSH'],
    ];
    for (const [message, field] of cases) {
      const res = await deliverHl7(fn.url, message);
      assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body['invalid-params'][0].name, field);
    }
  });

  it('the same message twice (a resend after a lost ACK) routes its reports once', async () => {
    await seedPatient('P-1', 'svip1');
    await seedResultOrder('ACC-1', 'P-1');
    const message = oru('P-1', [chemistry('ACC-1')], { control: 'CTRL-42' });
    assert.equal((await deliverHl7(fn.url, message)).body.status, 'processed');
    const again = await deliverHl7(fn.url, message);
    assert.deepEqual([again.status, again.body.status], [200, 'duplicate']);
    assert.equal((await lanes()).svip1.length, 1);
  });
});
