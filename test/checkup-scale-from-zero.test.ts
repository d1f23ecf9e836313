// The check-up consumer idles at zero (keda/checkup-consumer-source.yaml: minReplicaCount 0) and the local
// runtime wakes it as KEDA would: a check-up request produced to checkup-requests on a real Kafka wire
// protocol (the mock broker npm test starts) is lag, the ScaledObject turns lag into consumers, and the
// consumer books the company's employees.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Kafka, type Producer } from 'kafkajs';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { db } from '../functions/shared/db';
import { addDays, branchDay } from '../functions/shared/calendar';
import { resetDatabase, eventually, BRANCH } from './support/fixtures';
import { seedClinic, ZONE } from './support/clinic';
import { readTopic, startBundleOnKafka, type BundleOnKafka } from './support/kafka';

const brokers = process.env.TEST_KAFKA_BROKERS;
const SOURCE = 'checkup-consumer-source';

describe('the check-up consumer scales from zero on Kafka lag (KEDA rules, mock broker)', function () {
  this.timeout(90_000);
  let running: BundleOnKafka;
  let bundle: Bundle;
  let kafka: Kafka;
  let producer: Producer;

  before(async () => {
    await resetDatabase();
    await seedClinic();
    // The topics exist, empty, before the runtime reads their lag (the partner's first list is yet to come).
    running = await startBundleOnKafka('checkup-test', ['checkup-requests', 'appointment-events']);
    ({ bundle, kafka, producer } = running);
  });

  after(async () => running?.stop());

  it('no consumer runs while nothing waits; a check-up request wakes one, and its employees are booked', async () => {
    const dispatcher = bundle.dispatchers.find((d) => d.source.name === SOURCE)!;
    const scaling = () => bundle.scaling.find((s) => s.kafkaSource === SOURCE)!;
    assert.equal(scaling().scaledObject, SOURCE, 'keda/checkup-consumer-source.yaml scales the KafkaSource');
    assert.equal(dispatcher.replicas, 0, 'minReplicaCount 0 and no lag: no consumer');
    assert.equal(scaling().decision?.active, false);

    const requestId = `chk-${randomUUID()}`;
    const day = (n: number) => addDays(branchDay(new Date(), ZONE), n);
    const employees = Array.from({ length: 6 }, (_, i) => ({ patientId: `kafka-emp-${i + 1}` }));
    await producer.send({ topic: 'checkup-requests', messages: [{
      key: requestId,
      value: JSON.stringify({ requestId, companyId: 'acme', visitTypeId: 'annual-checkup', branchId: BRANCH, from: day(1), to: day(3), employees }),
      headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_source: '/partners/acme', ce_type: 'com.medlab.checkup.requested', 'content-type': 'application/json' },
    }] });

    // KEDA's next poll (now, rather than in pollingInterval seconds): lag 1 > activationLagThreshold 0.
    await bundle.pollScalers();
    assert.equal(scaling().reading?.rawLag, 1);
    assert.equal(scaling().decision?.active, true);
    assert.ok(dispatcher.replicas >= 1, `the request woke a consumer (${dispatcher.replicas})`);

    const visits = await eventually(async () => {
      const found = await db().appointment.findMany({ where: { checkupRequestId: requestId } });
      return found.length === employees.length && found;
    }, 'the employees booked');
    assert.deepEqual(visits.map((v) => v.patientId).sort(), employees.map((e) => e.patientId).sort());
    assert.equal(new Set(visits.map((v) => branchDay(v.startsAt, ZONE))).size, 3, 'spread over the three days');
    const answered = await eventually(async () => (await readTopic(brokers!, 'appointment-events')).find((r) => r.headers.ce_type === 'com.medlab.checkup.scheduled' && r.key === requestId), 'checkup.scheduled on appointment-events');
    assert.equal(answered.headers.ce_source, '/appointment/checkup-consumer');
    // Once the consumer committed, nothing waits: the group's lag is back to zero.
    await eventually(async () => { await bundle.pollScalers(); return scaling().reading?.rawLag === 0; }, 'the lag back to zero');
  });
});
