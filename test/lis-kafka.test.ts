// The LIS's HL7 v2 messages on a real Kafka wire protocol (librdkafka's mock cluster, started by npm test):
// plain records on lis-sample-status → KafkaSource-equivalent consumer group (dev.knative.kafka.event) →
// lis-sample-status-consumer → the visit's timeline and status; an unreadable one → the dead-letter sink.
import { strict as assert } from 'node:assert';
import type { Producer } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { startBundleOnKafka, type BundleOnKafka } from './support/kafka';
import { resetDatabase, seedCatalogue, call, staffToken } from './support/fixtures';
import { seedClinic, createAppointment, at } from './support/clinic';

const TOPIC = 'lis-sample-status';

const message = (type: string, control: string, time: string, segments: string[]) =>
  [`MSH|^~\\&|LIS|MEDLAB-HCM|PORTAL|MEDLAB|${time}||${type}|${control}|P|2.5.1`, ...segments].join('\r');

describe('LIS sample status through Kafka (mock broker)', function () {
  this.timeout(90_000);
  let running: BundleOnKafka;
  let bundle: Bundle;
  let producer: Producer;

  before(async () => {
    await resetDatabase();
    await seedCatalogue();
    await seedClinic();
    running = await startBundleOnKafka('lis-test', [TOPIC]);
    ({ bundle, producer } = running);
  });

  after(async () => running?.stop());

  const until: BundleOnKafka['until'] = (check, what, timeoutMs) => running.until(check, what, timeoutMs);
  const kinds = async (appointmentId: string) => (await db().timelineEntry.findMany({ where: { appointmentId }, orderBy: { id: 'asc' } })).map((e) => e.kind);

  it('SSU^U03 and ORL^O22 records, linked by the sampling desk, move the visit from booked to arrived to fulfilled', async () => {
    const visit = await createAppointment({ start: at(1, '09:00') });
    assert.equal((await call(`${bundle.url}/api/appointments/lab-orders`, { token: staffToken(), body: { appointmentId: visit.id, accession: 'K-ACC-1' } })).status, 201);
    await producer.send({ topic: TOPIC, messages: [
      { key: 'K-ACC-1', value: message('SSU^U03^SSU_U03', 'K-1', '20261208090000+0700', ['EQU|ANALYSER-1', 'SAC||K-ACC-1||||||I']) },
      { key: 'K-ACC-1', value: message('SSU^U03^SSU_U03', 'K-2', '20261208093000+0700', ['EQU|ANALYSER-1', 'SAC||K-ACC-1||||||P']) },
      { key: 'K-ACC-1', value: message('ORL^O22', 'K-3', '20261208110000+0700', ['MSA|AA|K-0', `ORC|OK|${visit.id}|K-ACC-1||CM`]) },
    ] });
    await until(async () => (await db().appointment.findUniqueOrThrow({ where: { id: visit.id } })).status === 'fulfilled', 'the visit fulfilled');
    assert.deepEqual((await kinds(visit.id)).filter((k) => k !== 'lab-order-linked'), ['sample-collected', 'status-changed', 'sample-received', 'sample-completed', 'status-changed']);
  });

  it('OML^O21 naming our appointment in ORC-2 links its accession; a resent message (same MSH-10, new offset) counts once', async () => {
    const visit = await createAppointment({ start: at(1, '10:00') });
    const oml = message('OML^O21', 'K-10', '20261208100000+0700', ['PID|1||P-1', `ORC|NW|${visit.id}|K-ACC-2||SC`, 'OBR|1', 'SPM|1|||BLD|||||||||||||202612081000']);
    await producer.send({ topic: TOPIC, messages: [{ key: 'K-ACC-2', value: oml }, { key: 'K-ACC-2', value: oml }] });
    await until(async () => (await db().labOrder.findUnique({ where: { accession: 'K-ACC-2' } }))?.sampleStatus === 'collected', 'the sample collected');
    await until(() => db().appointmentInboxEvent.count({ where: { consumer: 'lis-sample-status-consumer' } }).then((n) => n >= 5), 'both records delivered');
    assert.deepEqual((await kinds(visit.id)).filter((k) => k.startsWith('sample-')), ['sample-collected']);
    assert.equal((await db().appointment.findUniqueOrThrow({ where: { id: visit.id } })).status, 'arrived');
  });

  it('a record that is not HL7 goes to the dead-letter sink with the field at fault, and the consumer keeps going', async () => {
    await producer.send({ topic: TOPIC, messages: [
      { key: 'junk-1', value: '{"not":"hl7"}' },
      { key: 'K-ACC-2', value: message('SSU^U03^SSU_U03', 'K-20', '20261208103000+0700', ['EQU|ANALYSER-1', 'SAC||K-ACC-2||||||P']) },
    ] });
    const letter = await until(() => db().deadLetter.findFirst({ where: { eventType: 'dev.knative.kafka.event', event: { path: ['key'], equals: 'junk-1' } } }), 'the dead letter');
    assert.equal(letter.errorCode, 400);
    assert.match(letter.reason ?? '', /hl7\/MSH: is missing/);
    await until(async () => (await db().labOrder.findUnique({ where: { accession: 'K-ACC-2' } }))?.sampleStatus === 'received', 'the next message applied');
  });
});
