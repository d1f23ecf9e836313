import { strict as assert } from 'node:assert';
import { recordToEvent } from './cloudevents';

const source = { name: 'booking-consumer-source', namespace: 'patient-portal' };

describe('Kafka records as a KafkaSource turns them into CloudEvents', () => {
  it('binary mode: ce_ headers make the record that CloudEvent', () => {
    const e = recordToEvent({
      topic: 'booking-requests', partition: 2, offset: '7', key: 'p-1', value: '{"requestId":"r"}',
      headers: { ce_specversion: '1.0', ce_id: 'e-1', ce_source: '/portal', ce_type: 'com.medlab.booking.requested', 'content-type': 'application/json' },
    }, source);
    assert.deepEqual([e.id, e.source, e.type], ['e-1', '/portal', 'com.medlab.booking.requested']);
    assert.deepEqual(e.data, { requestId: 'r' });
  });

  it('structured mode: an application/cloudevents+json value is that CloudEvent', () => {
    const e = recordToEvent({
      topic: 'booking-requests', partition: 0, offset: 1, key: null,
      value: JSON.stringify({ specversion: '1.0', id: 'e-2', source: '/lis', type: 'com.medlab.booking.cancel-requested', datacontenttype: 'application/json', data: { bookingId: 'b' } }),
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    }, source);
    assert.deepEqual([e.id, e.source, e.type], ['e-2', '/lis', 'com.medlab.booking.cancel-requested']);
    assert.deepEqual(e.data, { bookingId: 'b' });
  });

  it('any other record becomes dev.knative.kafka.event named after the source, topic, partition and offset', () => {
    const e = recordToEvent({ topic: 'booking-requests', partition: 3, offset: '42', key: 'legacy', value: 'plain text', headers: {} }, source) as any;
    assert.equal(e.type, 'dev.knative.kafka.event');
    assert.equal(e.source, '/apis/v1/namespaces/patient-portal/kafkasources/booking-consumer-source#booking-requests');
    assert.equal(e.subject, 'partition:3#42');
    assert.equal(e.key, 'legacy');
    assert.equal(e.partitionkey, 'legacy');
    assert.equal(e.data, 'plain text');
  });
});
