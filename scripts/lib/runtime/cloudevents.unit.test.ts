import { strict as assert } from 'node:assert';
import { recordToEvent, wireHttpMessage, kafkaHeaderExtension } from './cloudevents';

const source = { name: 'booking-consumer-source', namespace: 'patient-portal' };

describe('Kafka records as a KafkaSource turns them into CloudEvents', () => {
  it('binary mode: the ce_ headers are the event, exactly (no partitionkey from the record key, no time added), with where the record sat', () => {
    const e = recordToEvent({
      topic: 'booking-requests', partition: 2, offset: '7', key: 'p-1', value: '{"requestId":"r"}', timestamp: 1_700_000_000_000,
      headers: { ce_specversion: '1.0', ce_id: 'e-1', ce_source: '/portal', ce_type: 'com.medlab.booking.requested', ce_traceparent: '00-ab-cd-01', 'content-type': 'application/json', 'x-other': 'not an attribute' },
    }, source);
    assert.deepEqual(e.attributes, {
      specversion: '1.0', id: 'e-1', source: '/portal', type: 'com.medlab.booking.requested', traceparent: '00-ab-cd-01', datacontenttype: 'application/json',
      knativekafkapartition: '2', knativekafkaoffset: '7',
    });
    assert.equal(e.data?.toString(), '{"requestId":"r"}');
  });

  it('structured mode: an application/cloudevents+json value is that event, exactly (its own partitionkey kept, none added)', () => {
    const e = recordToEvent({
      topic: 'booking-requests', partition: 0, offset: 1, key: 'record-key',
      value: JSON.stringify({ specversion: '1.0', id: 'e-2', source: '/lis', type: 'com.medlab.booking.cancel-requested', datacontenttype: 'application/json', branch: 'hcm-d1', data: { bookingId: 'b' } }),
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    }, source);
    assert.deepEqual(e.attributes, { specversion: '1.0', id: 'e-2', source: '/lis', type: 'com.medlab.booking.cancel-requested', datacontenttype: 'application/json', branch: 'hcm-d1', knativekafkapartition: '0', knativekafkaoffset: '1' });
    assert.deepEqual(JSON.parse(e.data!.toString()), { bookingId: 'b' });
  });

  it('structured mode: data_base64 is the data bytes', () => {
    const e = recordToEvent({
      topic: 't', partition: 0, offset: 1, key: null, headers: { 'content-type': 'application/cloudevents+json' },
      value: JSON.stringify({ specversion: '1.0', id: 'e-3', source: '/s', type: 't', datacontenttype: 'application/octet-stream', data_base64: Buffer.from([0, 1, 2]).toString('base64') }),
    }, source);
    assert.deepEqual([...e.data!], [0, 1, 2]);
    assert.equal(e.attributes.data_base64, undefined);
  });

  it('any other record becomes dev.knative.kafka.event with its key and its headers as kafkaheader<name> extensions', () => {
    const e = recordToEvent({
      topic: 'booking-requests', partition: 3, offset: '42', key: 'legacy', value: 'plain text', timestamp: 0,
      headers: { 'X-Request-Id': 'abc-1', 'Content-Type': 'Text/Plain', trace_ID: 't-9' },
    }, source);
    assert.deepEqual(e.attributes, {
      specversion: '1.0',
      id: 'partition:3/offset:42',
      type: 'dev.knative.kafka.event',
      source: '/apis/v1/namespaces/patient-portal/kafkasources/booking-consumer-source#booking-requests',
      subject: 'partition:3#42',
      time: '1970-01-01T00:00:00.000Z',
      key: 'legacy',
      partitionkey: 'legacy',
      kafkaheaderxrequestid: 'abc-1',
      kafkaheadertraceid: 't-9',
      datacontenttype: 'text/plain',
      knativekafkapartition: '3',
      knativekafkaoffset: '42',
    });
    assert.equal(e.data?.toString(), 'plain text');
  });

  it('header names lose everything but a–z and 0–9, lower-cased', () => {
    assert.equal(kafkaHeaderExtension('X-Correlation_ID.v2'), 'kafkaheaderxcorrelationidv2');
  });

  it('a record whose ce_ headers are not a valid CloudEvent is wrapped like any other record, headers and all', () => {
    const e = recordToEvent({ topic: 't', partition: 0, offset: 5, key: null, value: '{}', headers: { ce_specversion: '1.0', ce_type: 'no.id.or.source' } }, source);
    assert.equal(e.attributes.type, 'dev.knative.kafka.event');
    assert.equal(e.attributes.kafkaheadercespecversion, '1.0');
    assert.equal(e.attributes.kafkaheadercetype, 'no.id.or.source');
    assert.equal(e.attributes.partitionkey, undefined, 'no key, no partitionkey');
  });

  it('a structured record that is not JSON is wrapped like any other record', () => {
    const e = recordToEvent({ topic: 't', partition: 1, offset: 2, key: null, value: 'not json', headers: { 'content-type': 'application/cloudevents+json' } }, source);
    assert.equal(e.attributes.type, 'dev.knative.kafka.event');
    assert.equal(e.attributes.datacontenttype, 'application/cloudevents+json');
  });

  it('HTTP binary mode: each attribute a ce- header, datacontenttype the content-type, the data the body as is', () => {
    const m = wireHttpMessage({ attributes: { specversion: '1.0', id: 'x', source: '/s', type: 't', datacontenttype: 'text/plain', kafkaheaderclinic: 'Quận 1' }, data: Buffer.from('a b') });
    assert.deepEqual(m.headers, { 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-source': '/s', 'ce-type': 't', 'content-type': 'text/plain', 'ce-kafkaheaderclinic': 'Qu%E1%BA%ADn 1' });
    assert.equal(m.body?.toString(), 'a b');
  });
});
