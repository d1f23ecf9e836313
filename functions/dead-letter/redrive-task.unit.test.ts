// A kept event back into the record it was: the same record the outbox would publish for that CloudEvent
// (kafkaRecord), without what Knative's delivery added; a wrapped plain record back to its value and headers.
import { strict as assert } from 'node:assert';
import { CloudEvent } from 'cloudevents';
import { kafkaRecord } from '../shared/publisher';
import { batchSize, recordOf } from './redrive-task';

const delivery = {
  knativeerrordest: 'http://booking-consumer.patient-portal.svc.cluster.local', knativeerrorcode: '500', knativeerrordata: 'eyJ0aXRsZSI6ImJvb20ifQ==',
  knativekafkapartition: '2', knativekafkaoffset: '41',
};

describe('redrive records', () => {
  it('a kept CloudEvent is the record kafkaRecord() makes of it, and nothing of the delivery', () => {
    const event = new CloudEvent<unknown>({
      id: 'e-1', source: '/portal', type: 'com.medlab.booking.requested', time: '2026-11-20T08:30:00.000Z', subject: 'slot/1',
      datacontenttype: 'application/json', partitionkey: 'p-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'v=1',
      data: { requestId: 'r-1', patientId: 'p-1', slotId: 's-1' },
    }, false);
    const kept = { ...JSON.parse(JSON.stringify(event)), ...delivery };
    assert.deepEqual(recordOf('booking-requests', 'p-1', kept), kafkaRecord('booking-requests', 'p-1', event));
  });

  it('an event without trace context goes out without one; text data goes out as it was', () => {
    const event = new CloudEvent<unknown>({ id: 'e-2', source: '/lis', type: 'com.medlab.lis.result', datacontenttype: 'text/plain', data: 'MSH|^~\\&|LIS' }, false);
    const record = recordOf('lis-results', null, { ...JSON.parse(JSON.stringify(event)), ...delivery });
    assert.deepEqual(record, kafkaRecord('lis-results', null, event));
    assert.equal(record.value, 'MSH|^~\\&|LIS');
    assert.equal(record.headers.traceparent, undefined);
  });

  it('a wrapped plain record is its value, its key and its headers again', () => {
    const kept = {
      specversion: '1.0', id: 'partition:2/offset:41', type: 'dev.knative.kafka.event', source: '/apis/v1/namespaces/patient-portal/kafkasources/booking-consumer-source#booking-requests',
      subject: 'partition:2#41', time: '2026-11-20T08:30:00.000Z', key: 'legacy-1', partitionkey: 'legacy-1', kafkaheaderorigin: 'front-desk', kafkaheaderxrequestid: 'q-9',
      datacontenttype: 'application/json', data: { legacy: true }, ...delivery,
    };
    assert.deepEqual(recordOf('booking-requests', 'legacy-1', kept), {
      topic: 'booking-requests', key: 'legacy-1', value: '{"legacy":true}', headers: { 'content-type': 'application/json', origin: 'front-desk', xrequestid: 'q-9' },
    });
  });

  it('a wrapped record redriven before leaves the mark of that redrive behind (the runner marks it anew)', () => {
    const kept = { specversion: '1.0', id: 'partition:1/offset:9', type: 'dev.knative.kafka.event', source: '/x#t', kafkaheaderorigin: 'front-desk', kafkaheadermedlabredriveitem: '2b9d2f1e-6c1a-4f5e-9f3b-0d6f1c2a3b4c:3', data: 'x', datacontenttype: 'text/plain' };
    assert.deepEqual(recordOf('t', null, kept).headers, { 'content-type': 'text/plain', origin: 'front-desk' });
  });

  it('binary data kept as data_base64 goes out as its very bytes', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x68, 0x69]);
    const kept = { specversion: '1.0', id: 'e-3', type: 'dev.knative.kafka.event', source: '/x#t', data_base64: bytes.toString('base64') };
    assert.deepEqual(recordOf('t', null, kept).value, bytes);
  });

  it('batches hold about a fifth of a second of the rate: 1 at 5/s, 20 at 100/s, 100 at 500/s, never more than 500', () => {
    assert.deepEqual([1, 5, 100, 500, 1_000_000].map(batchSize), [1, 1, 20, 100, 500]);
  });
});
