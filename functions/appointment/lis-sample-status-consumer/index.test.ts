import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as consumer from './index';
import * as labOrders from '../lab-orders/index';
import { db } from '../../shared/db';
import { resetDatabase, startFunction, call, published, staffToken, type Answer, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at } from '../../../test/support/clinic';

/** An HL7 v2 message as the LIS writes it: MSH with sender LIS / MEDLAB-HCM, a control id and a time, then segments. */
const hl7 = (type: string, segments: string[], { control = randomUUID() as string, time = '20261208090000+0700', sep = '\r' } = {}) =>
  [`MSH|^~\\&|LIS|MEDLAB-HCM|PORTAL|MEDLAB|${time}||${type}|${control}|P|2.5.1`, ...segments].join(sep);
const ssu = (accession: string, status: string, opts?: Parameters<typeof hl7>[2], extra: string[] = []) =>
  hl7('SSU^U03^SSU_U03', ['EQU|ANALYSER-1|20261208090000', `SAC||${accession}||||||${status}`, ...extra], opts);
const oml = (type: 'OML^O21' | 'ORL^O22', { placer = '', accession = '', status = 'SC', collected = '', received = '', reject = '' }, opts?: Parameters<typeof hl7>[2]) =>
  hl7(type, ['PID|1||P-1', `ORC|SC|${placer}|${accession}||${status}`, 'OBR|1', `SPM|1|||BLD^Blood^HL70487|||||||||||||${collected}|${received}|||${reject}`], opts);

/** A record the LIS put on lis-sample-status, as the KafkaSource delivers it: a dev.knative.kafka.event whose data is the text. */
async function deliverHl7(url: string, body: string | Buffer, { type = 'dev.knative.kafka.event', contentType = 'text/plain' as string | undefined } = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0', 'ce-id': `partition:0/offset:${randomUUID()}`, 'ce-type': type,
      'ce-source': '/apis/v1/namespaces/patient-portal/kafkasources/lis-sample-status-consumer-source#lis-sample-status',
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

describe('lis-sample-status-consumer (KafkaSource on lis-sample-status, HL7 v2)', () => {
  let fn: RunningFunction;
  let link: RunningFunction;
  before(async () => { [fn, link] = await Promise.all([startFunction(consumer), startFunction(labOrders)]); });
  after(async () => { await fn.close(); await link.close(); });
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  /** A booked visit tomorrow with accession ACC-1 linked to it at the sampling desk. */
  async function visitWithSample(accession = 'ACC-1', status: 'booked' | 'arrived' | 'checked_in' = 'booked') {
    const visit = await createAppointment({ start: at(1, '09:00'), status });
    assert.equal((await call(link.url, { token: staffToken(), body: { appointmentId: visit.id, accession } })).status, 201);
    return visit;
  }
  const order = (accession = 'ACC-1') => db().labOrder.findUniqueOrThrow({ where: { accession } });
  const visitStatus = async (id: string) => (await db().appointment.findUniqueOrThrow({ where: { id } })).status;
  const timeline = async (id: string) => (await db().timelineEntry.findMany({ where: { appointmentId: id }, orderBy: { id: 'asc' } })).map((e) => ({ kind: e.kind, by: e.by, detail: e.detail as Record<string, unknown> }));
  const sampleKinds = async (id: string) => (await timeline(id)).map((e) => e.kind).filter((k) => k.startsWith('sample-'));
  const events = async (type: string) => (await published(type === 'com.medlab.notification.requested' ? 'notification-requests' : 'appointment-events')).filter((e) => e.type === type);

  it('a container identified (SSU^U03 SAC-8 I) marks the sample collected and the booked patient arrived', async () => {
    const visit = await visitWithSample();
    const res = await deliverHl7(fn.url, ssu('ACC-1', 'I'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([(await order()).sampleStatus, await visitStatus(visit.id)], ['collected', 'arrived']);
    const entry = (await timeline(visit.id)).find((e) => e.kind === 'sample-collected');
    assert.deepEqual(entry, { kind: 'sample-collected', by: 'lis', detail: { accession: 'ACC-1', containerStatus: 'I' } });
    const [sample] = await events('com.medlab.appointment.sample-status-changed');
    assert.deepEqual([sample.key, sample.data.accession, sample.data.sampleStatus], [visit.id, 'ACC-1', 'collected']);
    const [arrived] = await events('com.medlab.appointment.status-changed');
    assert.deepEqual([arrived.data.previousStatus, arrived.data.status], ['booked', 'arrived']);
  });

  it('each container status moves the sample on: received, in process, completed; the last order completed fulfils the visit', async () => {
    const visit = await visitWithSample();
    const steps: Array<[string, string, string]> = [['I', '0900', 'collected'], ['P', '0930', 'received'], ['O', '1000', 'in_process'], ['R', '1100', 'completed']];
    for (const [code, time, status] of steps) {
      assert.equal((await deliverHl7(fn.url, ssu('ACC-1', code, { time: `20261208${time}00+0700` }))).status, 200);
      assert.equal((await order()).sampleStatus, status, code);
    }
    assert.deepEqual(await sampleKinds(visit.id), ['sample-collected', 'sample-received', 'sample-in-process', 'sample-completed']);
    assert.equal(await visitStatus(visit.id), 'fulfilled');
    const moves = (await events('com.medlab.appointment.status-changed')).map((e) => `${e.data.previousStatus}→${e.data.status}`);
    assert.deepEqual(moves, ['booked→arrived', 'arrived→fulfilled']);
  });

  it('OML^O21 with our appointment id in ORC-2 links a new accession; ORC-5 and SPM times move it; fulfilled only when every order is completed', async () => {
    const visit = await createAppointment({ start: at(1, '10:00'), status: 'checked_in' });
    const collected = await deliverHl7(fn.url, oml('OML^O21', { placer: visit.id, accession: 'ACC-7', collected: '202612080815' }));
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    assert.deepEqual([(await order('ACC-7')).appointmentId, (await order('ACC-7')).sampleStatus, (await order('ACC-7')).orderStatus], [visit.id, 'collected', 'SC']);
    await deliverHl7(fn.url, oml('OML^O21', { placer: visit.id, accession: 'ACC-8', status: 'IP', collected: '202612080815' }));
    assert.equal((await order('ACC-8')).sampleStatus, 'in_process');
    await deliverHl7(fn.url, oml('ORL^O22', { accession: 'ACC-7', status: 'CM' }, { time: '20261208110000+0700' }));
    assert.equal((await order('ACC-7')).orderStatus, 'CM');
    assert.equal(await visitStatus(visit.id), 'checked_in', 'one order is still in process');
    await deliverHl7(fn.url, oml('ORL^O22', { accession: 'ACC-8', status: 'CM' }, { time: '20261208113000+0700' }));
    assert.equal(await visitStatus(visit.id), 'fulfilled');
    assert.ok((await timeline(visit.id)).some((e) => e.kind === 'lab-order-linked' && e.by === 'lis' && e.detail.accession === 'ACC-7'));
  });

  it('messages arriving out of order never move a sample back', async () => {
    const visit = await visitWithSample();
    await deliverHl7(fn.url, ssu('ACC-1', 'R', { time: '20261208110000+0700' }));
    await deliverHl7(fn.url, ssu('ACC-1', 'I', { time: '20261208083000+0700' }));
    await deliverHl7(fn.url, ssu('ACC-1', 'P', { time: '20261208090000+0700' }));
    assert.equal((await order()).sampleStatus, 'completed');
    assert.equal((await order()).statusAt?.toISOString(), '2026-12-08T04:00:00.000Z');
    assert.deepEqual(await sampleKinds(visit.id), ['sample-completed']);
    // A rejection of the sample sent before it was completed changes nothing either.
    await deliverHl7(fn.url, ssu('ACC-1', 'P', { time: '20261208100000+0700' }, ['SPM|1|||||||||||||||||||||RH']));
    assert.equal((await order()).sampleStatus, 'completed');
    assert.equal((await events('com.medlab.notification.requested')).length, 0);
  });

  it('the same message sent twice (a resend at a new offset) has no second effect', async () => {
    const visit = await visitWithSample();
    const message = ssu('ACC-1', 'I', { control: 'CTRL-42' });
    assert.equal((await deliverHl7(fn.url, message)).body.status, 'processed');
    const again = await deliverHl7(fn.url, message);
    assert.deepEqual([again.status, again.body.status], [200, 'duplicate']);
    assert.deepEqual(await sampleKinds(visit.id), ['sample-collected']);
    assert.equal((await events('com.medlab.appointment.sample-status-changed')).length, 1);
  });

  it('a rejected sample brings the patient an offer of a new collection (when, and where to rebook), and no reason', async () => {
    const visit = await visitWithSample();
    await deliverHl7(fn.url, ssu('ACC-1', 'P', { time: '20261208090000+0700' }));
    const before = Date.now();
    const res = await deliverHl7(fn.url, ssu('ACC-1', 'P', { time: '20261208093000+0700' }, ['SPM|1|||BLD|||||||||||||202612080815|202612080840|||RH^Hemolysis^HL70490']));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const rejected = await order();
    assert.deepEqual([rejected.sampleStatus, rejected.rejectReason], ['rejected', 'RH']);
    const [sample] = (await events('com.medlab.appointment.sample-status-changed')).filter((e) => e.data.sampleStatus === 'rejected');
    assert.equal(sample.data.rejectReason, 'RH');
    const start = Date.parse(sample.data.recollectionStart);
    assert.ok(start >= before - 15 * 60_000 && start <= before + 14 * 24 * 3600_000, sample.data.recollectionStart);
    const [notice] = await events('com.medlab.notification.requested');
    assert.deepEqual(notice.data.recipient, { kind: 'patient', patientId: visit.patientId });
    assert.deepEqual([notice.data.template, notice.data.category, notice.data.critical], ['sample-rejected', 'appointment', false]);
    assert.deepEqual(notice.data.variables, { appointmentId: visit.id, recollectionStart: sample.data.recollectionStart, rebookPath: `/appointments/${visit.id}/reschedule` });
    assert.doesNotMatch(JSON.stringify(notice.data), /RH|Hemolysis|BLD/);
    // The new sample is collected: its stages start again.
    await deliverHl7(fn.url, ssu('ACC-1', 'I', { time: '20261208100000+0700' }));
    assert.equal((await order()).sampleStatus, 'collected');
    assert.deepEqual(await sampleKinds(visit.id), ['sample-received', 'sample-rejected', 'sample-collected']);
  });

  it('a rejection with no free time in the next two weeks says so (recollectionStart null, absent from the notification)', async () => {
    const visit = await visitWithSample();
    await db().resource.updateMany({ data: { active: false } });
    await deliverHl7(fn.url, oml('OML^O21', { accession: 'ACC-1', reject: 'QS' }));
    const [sample] = await events('com.medlab.appointment.sample-status-changed');
    assert.equal(sample.data.recollectionStart, null);
    const [notice] = await events('com.medlab.notification.requested');
    assert.deepEqual(notice.data.variables, { appointmentId: visit.id, rebookPath: `/appointments/${visit.id}/reschedule` });
  });

  it('a missing container (SAC-8 M) is noted on the timeline without moving the sample', async () => {
    const visit = await visitWithSample();
    await deliverHl7(fn.url, ssu('ACC-1', 'I', { time: '20261208090000+0700' }));
    await deliverHl7(fn.url, ssu('ACC-1', 'M', { time: '20261208100000+0700' }));
    assert.equal((await order()).sampleStatus, 'collected');
    assert.deepEqual((await timeline(visit.id)).find((e) => e.kind === 'sample-missing')?.detail, { accession: 'ACC-1', containerStatus: 'M' });
  });

  it('an accession no visit has is refused with 422 naming the accession field (dead-lettered), and nothing changes', async () => {
    const ssuUnknown = await deliverHl7(fn.url, ssu('ACC-404', 'I'));
    assert.equal(ssuUnknown.status, 422);
    assert.equal(ssuUnknown.body['invalid-params'][0].name, 'hl7/SAC-2');
    assert.match(ssuUnknown.body.detail, /ACC-404/);
    const omlUnknown = await deliverHl7(fn.url, oml('OML^O21', { placer: randomUUID(), accession: 'ACC-405', collected: '202612080815' }));
    assert.equal(omlUnknown.status, 422);
    assert.equal(omlUnknown.body['invalid-params'][0].name, 'hl7/ORC-3');
    assert.equal(await db().labOrder.count(), 0);
    assert.equal(await db().hl7Message.count(), 0, 'a refused message is not remembered: redriven after a link, it applies');
  });

  it('a message that cannot be read is a 400 problem naming the HL7 field, never a 500', async () => {
    await visitWithSample();
    const cases: Array<[string | Buffer, string, string | undefined]> = [
      ['PID|1||P-1\rSAC||ACC-1||||||I', 'hl7/MSH', 'text/plain'],
      [ssu('ACC-1', 'I').replace('SSU^U03^SSU_U03', 'ADT^A01'), 'hl7/MSH-9', 'text/plain'],
      [ssu('ACC-1', 'I').replace('^~\\&', '^~\\&#'), 'hl7/MSH-2', 'text/plain'],
      [ssu('ACC-1', 'I').replace('^~\\&', '*~\\&'), 'hl7/MSH-2', undefined],
      [Buffer.from([0x00, 0xff, 0x13, 0x37, 0xfe, 0x81]), 'hl7/MSH', 'application/octet-stream'],
      // Bytes with no content type are read as text by the runtime itself, which finds them shorter than
      // their Content-Length and refuses them before the function runs: still a 400, still dead-lettered.
      [Buffer.from([0x00, 0xff, 0x13, 0x37, 0xfe, 0x81]), 'header/content-length', undefined],
      ['{"legacy":true}', 'hl7/MSH', 'application/json'],
      [ssu('ACC-1', 'Q'), 'hl7/SAC-8', 'text/plain'],
      [ssu('ACC-1', 'I', { time: 'tomorrow' }), 'hl7/MSH-7', 'text/plain'],
    ];
    for (const [body, field, contentType] of cases) {
      const res = await deliverHl7(fn.url, body, { contentType });
      assert.equal(res.status, 400, `${field} (${contentType}): ${JSON.stringify(res.body)}`);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      assert.equal(res.body['invalid-params'][0].name, field, `(${contentType}) ${JSON.stringify(res.body)}`);
    }
    assert.equal((await order()).sampleStatus, 'ordered');
  });

  it('accepts HL7 under any CloudEvent type, with or without a content type, and \\n or \\r\\n between segments', async () => {
    await visitWithSample();
    assert.equal((await deliverHl7(fn.url, ssu('ACC-1', 'I', { sep: '\n', time: '20261208090000+0700' }), { type: 'com.medlab.lis.message', contentType: undefined })).status, 200);
    assert.equal((await deliverHl7(fn.url, ssu('ACC-1', 'P', { sep: '\r\n', time: '20261208093000+0700' }) + '\r\n', { contentType: 'x-application/hl7-v2+er7' })).status, 200);
    assert.equal((await order()).sampleStatus, 'received');
  });
});
