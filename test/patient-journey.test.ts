// The patient journey of ../shared/DOMAIN.md across all five systems, on a real Kafka wire protocol
// (librdkafka's mock cluster, started by npm test), every function wired as knative/ and keda/ declare it:
// the CRM announces a patient and the master data source the catalogue; the portal recommends packages and
// says why; the patient books one and the booking queue confirms a slot; they check in and get a ticket; a
// clinical visit is paid at the POS; the LIS reports the sample and then the results (HL7 v2). The results
// came before the sample's accession was known, so they are a dead letter with the reason; an operator
// redrives them from the console once it is known, and the report is stored, released and the patient told:
// in the inbox and by SMS (delivered, its callback signed), read in the portal, with a read receipt. No
// message carries a test name, a value or a diagnosis.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { demoCatalogue } from '../scripts/lib/seed';
import { db } from '../functions/shared/db';
import { dayBounds, branchDay } from '../functions/shared/calendar';
import { startBundleOnKafka, type BundleOnKafka } from './support/kafka';
import { resetDatabase, seedCatalogue, createSlot, call, patientToken, staffToken, BRANCH } from './support/fixtures';
import { seedClinic, at, ZONE } from './support/clinic';
import { startStandIns, type StandIns } from './support/notifications';
import { operatorToken } from './support/dead-letters';
import { oru } from './support/results';

const PATIENT = 'patient-journey-5';
const PHONE = '+84900000555';
const ACCESSION = 'J-ACC-2026-0001';

/** A CloudEvent in the Kafka binding's binary mode, as the CRM, the master data source and the POS write them. */
const record = (type: string, key: string, data: unknown, id: string = randomUUID()) => ({
  key,
  value: JSON.stringify(data),
  headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/journey-test', ce_type: type, 'content-type': 'application/json' },
});
/** An HL7 v2 message from the LIS: a plain record (not a CloudEvent), keyed by accession. */
const hl7 = (segments: string[]) => ({ key: ACCESSION, value: segments.join('\r') });

describe('the patient journey across the five systems, through Kafka', function () {
  // Every step waits up to 150 s: on a fresh clone every Kafka test file starts at once on two cores.
  this.timeout(600_000);
  let running: BundleOnKafka;
  let bundle: Bundle;
  let producer: Producer;
  let providers: StandIns;
  const patient = patientToken(PATIENT);

  before(async () => {
    await resetDatabase();
    await seedCatalogue();
    await seedClinic();
    running = await startBundleOnKafka('patient-journey', [
      'crm-customers', 'test-master-data', 'booking-requests', 'booking-events', 'queue-events', 'appointment-events', 'pos-orders',
      'lis-sample-status', 'lis-results', 'patient-results', 'patient-results-svip1', 'patient-results-svip2', 'result-events',
      'notification-requests', 'notification-deliveries', 'notification-updates', 'notification-events', 'patient-events',
    ]);
    ({ bundle, producer } = running);
    providers = await startStandIns(bundle.url);
  });

  after(async () => {
    await running?.stop();
    await providers?.close();
  });

  const until: BundleOnKafka['until'] = (check, what, timeoutMs = 150_000) => running.until(check, what, timeoutMs);
  const url = (fn: string) => bundle.fn(fn).url;

  it('recommendation → package booked → slot confirmed → ticket → POS paid → sample status → results (a dead letter redriven) → released → told and read', async () => {
    // The CRM announces the patient (a 52-year-old man); the master data source sends the catalogue.
    await producer.send({ topic: 'crm-customers', messages: [record('com.medlab.crm.customer-updated', PATIENT, {
      patientId: PATIENT, version: 1, phone: PHONE, email: 'patient-journey-5@example.com', language: 'en', timezone: ZONE, tier: 'standard', sex: 'male', birthDate: '1974-03-15',
    })] });
    await producer.send({ topic: 'test-master-data', messages: demoCatalogue.map((e) => record(e.type, e.data.code, e.data, e.id)) });
    await until(async () => (await db().cataloguePackage.count()) === 4 && db().patient.findUnique({ where: { patientId: PATIENT } }), 'the catalogue and the patient\'s profile copied');
    await until(() => db().contactPoint.findUnique({ where: { patientId: PATIENT } }), 'the patient\'s contacts copied by the notification system');

    // 1. The portal recommends packages for his age and sex, and says why.
    const recommended = await call(url('recommendations'), { token: patient });
    assert.equal(recommended.status, 200, JSON.stringify(recommended.body));
    const diabetes = recommended.body.recommendations.find((r: { package: { code: string } }) => r.package.code === 'DIABETES');
    assert.ok(diabetes, 'the diabetes screening is recommended');
    assert.ok(diabetes.reasons.length > 0 && diabetes.reasons.every((r: { reason: string }) => r.reason.length > 10), 'with its reasons');

    // 2. He books it in a blood-draw slot later today; the booking queue confirms the place.
    const now = Date.now();
    const endOfDay = dayBounds(branchDay(new Date(now), ZONE), ZONE).end.getTime();
    const slot = await createSlot({ startsAt: new Date(Math.min(now + 10 * 60_000, endOfDay - 60_000)) });
    const booked = await call(url('package-book'), { token: patient, body: { packageCode: 'DIABETES', slotId: slot.id } });
    assert.equal(booked.status, 202, JSON.stringify(booked.body));
    const confirmed = await until(async () => {
      const b = await db().packageBooking.findUniqueOrThrow({ where: { id: booked.body.bookingId } });
      return b.status === 'confirmed' && b;
    }, 'the package booking confirmed by the booking queue');
    assert.equal(confirmed.branchId, BRANCH);
    assert.equal(confirmed.startsAt?.getTime(), slot.startsAt.getTime());
    await until(() => db().notification.findFirst({ where: { patientId: PATIENT, template: 'booking-confirmed' } }), 'the booking confirmation notice');

    // 3. On the day he checks in at the branch and gets a queue ticket.
    const ticket = await call(url('check-in'), { token: patient, body: { branchId: BRANCH, bookingId: confirmed.queueBookingId } });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    await until(async () => (await db().packageBooking.findUniqueOrThrow({ where: { id: confirmed.id } })).status === 'checked_in', 'the package booking checked in');

    // 4. A clinical visit (a cardiology consultation, paid first) is booked and paid at the POS.
    const visit = await call(url('appointment-book'), { token: patient, body: { visitTypeId: 'cardio-paid', branchId: BRANCH, start: at(1, '09:00').toISOString() } });
    assert.equal(visit.status, 201, JSON.stringify(visit.body));
    const appointmentId = visit.body.appointmentId as string;
    await producer.send({ topic: 'pos-orders', messages: [
      record('com.medlab.pos.order-created', 'POS-J-1', { orderId: 'POS-J-1', appointmentId, amount: 450_000 }),
      record('com.medlab.pos.order-paid', 'POS-J-1', { orderId: 'POS-J-1' }),
    ] });
    await until(async () => {
      const a = await db().appointment.findUniqueOrThrow({ where: { id: appointmentId } });
      return a.status === 'booked' && a.paymentStatus === 'paid';
    }, 'the visit booked once paid');

    // 5. The LIS's results arrive before its sample status: the accession is unknown here yet, so the
    // message is refused with the reason and kept by the dead-letter system.
    await producer.send({ topic: 'lis-results', messages: [hl7(oru(PATIENT, [{
      accession: ACCESSION, code: 'HBA1C', loinc: '4548-4', display: 'Hemoglobin A1c',
      observations: [{ code: 'HBA1C', loinc: '4548-4', display: 'Hemoglobin A1c', value: '6.1', unit: '%', range: '4.0-5.6', flags: ['H'] }],
    }], { control: 'J-ORU-1' }).split('\r'))] });
    const letter = await until(() => db().deadLetter.findFirst({ where: { kafkaSource: 'lis-results-consumer-source' } }), 'the results dead-lettered');
    assert.equal(letter.errorCode, 422);
    assert.match(letter.reason ?? '', /accession|order/i);
    assert.equal(await db().diagnosticReport.count(), 0);

    // 6. The sampling desk links the accession to the visit; the LIS reports the sample collected (SSU^U03):
    // the visit is arrived, and patient-booking learns whose accession it is from appointment-events.
    const linked = await call(url('lab-orders'), { token: staffToken(), body: { appointmentId, accession: ACCESSION } });
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    await producer.send({ topic: 'lis-sample-status', messages: [hl7([
      'MSH|^~\\&|LIS|MEDLAB-HCM|PORTAL|MEDLAB|20261208090000+0700||SSU^U03^SSU_U03|J-SSU-1|P|2.5.1', 'EQU|ANALYSER-1', `SAC||${ACCESSION}||||||I`,
    ])] });
    await until(async () => (await db().appointment.findUniqueOrThrow({ where: { id: appointmentId } })).status === 'arrived', 'the visit arrived');
    await until(() => db().resultOrder.findUnique({ where: { accession: ACCESSION } }), 'the accession known to patient-booking');

    // 7. An operator redrives the letter from the console: the results go through, are stored and released.
    const operator = operatorToken();
    const started = await call(`${bundle.url}/api/dead-letters/redrive`, { token: operator, body: { letterIds: [letter.id] } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await until(async () => {
      const res = await call(`${bundle.url}${started.headers.get('location')}`, { token: operator });
      return res.body.task.status === 'completed' && res.body.task;
    }, 'the redrive to complete');
    const report = await until(async () => {
      const r = await db().diagnosticReport.findFirst({ where: { accession: ACCESSION } });
      return r?.releaseState === 'released' && r;
    }, 'the report stored and released');
    assert.equal(report.patientId, PATIENT);
    assert.equal(report.appointmentId, appointmentId);

    // 8. The notification system tells him once the results window closes: the inbox and an SMS, delivered.
    await call(url('notification-preference-save'), { token: patient, body: { category: 'results', channels: ['in-app', 'sms'], quietHours: { start: '00:00', end: '00:00' } } });
    const pending = await until(() => db().notification.findFirst({ where: { patientId: PATIENT, template: 'results-ready' } }), 'one results-ready notice');
    const cron = await fetch(url('notification-cron'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job: 'minute', now: new Date(pending.sendAt.getTime() + 1000).toISOString() }) });
    assert.equal(cron.status, 200, await cron.text());
    await until(async () => {
      const n = await db().notification.findFirst({ where: { id: pending.id }, include: { deliveries: true } });
      return n?.deliveries.find((d) => d.channel === 'sms' && d.status === 'delivered');
    }, 'the results SMS delivered');
    const sms = providers.sms.messages.filter((m) => m.to === PHONE);
    assert.ok(sms.some((m) => /results are ready/i.test(m.body)), 'the results SMS');

    // 9. He reads the result in the portal (the released version, its flag) and opens the inbox item: a read receipt.
    const list = await call(url('results'), { token: patient });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.results.map((r: { reportId: string }) => r.reportId), [report.id]);
    const detail = await call(url('result-detail'), { token: patient, query: { reportId: report.id } });
    assert.equal(detail.status, 200, JSON.stringify(detail.body));
    const observations = JSON.stringify(detail.body);
    assert.match(observations, /6\.1/);
    assert.match(observations, /"H"/);
    assert.ok(await db().resultAudit.findFirst({ where: { reportId: report.id, action: 'viewed', actor: `patient:${PATIENT}` } }), 'his view is in the audit trail');
    const inbox = await call(url('notification-inbox'), { token: patient });
    const item = inbox.body.items.find((i: { title: string }) => /results/i.test(i.title));
    assert.ok(item, 'the results notice in the inbox');
    const marked = await call(url('notification-inbox-mark'), { token: patient, body: { action: 'read', itemIds: [item.id] } });
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    await until(async () => {
      const n = await db().notification.findFirst({ where: { id: pending.id }, include: { deliveries: true } });
      return n?.deliveries.find((d) => d.channel === 'in-app')?.status === 'read';
    }, 'the read receipt on the in-app delivery');
    const redriven = await db().deadLetter.findUniqueOrThrow({ where: { id: letter.id } });
    assert.deepEqual([redriven.status, redriven.resolution], ['resolved', 'redrive']);

    // What left the building: neutral words and a link, never a test, a value or a diagnosis. The words are
    // checked, not the link: a random id in it may spell "a1c".
    for (const text of [...sms.map((m) => m.body), ...inbox.body.items.map((i: { body: string }) => i.body)]) {
      const words = text.replace(/https?:\/\/\S+/g, '<link>');
      assert.doesNotMatch(words, /hba1c|\ba1c\b|6\.1|diabet|glucose/i);
    }
  });
});
