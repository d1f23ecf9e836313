// What switches tracing on and off, and how a trace context travels on an event, with tracing off in this
// process (as in every function started without OTEL_* settings): the context stored with an outbox row
// still reaches its record, so a traced consumer continues the trace even through an untraced publisher.
import { strict as assert } from 'node:assert';
import { CloudEvent } from 'cloudevents';
import { systemOf, tracingOn, tracingSettings, inSpan, publishTraced, activeTraceCarrier } from './telemetry';
import { kafkaRecord, toBusRecord, type OutboxRow } from './publisher';
import { recordToEvent } from '../../scripts/lib/runtime/cloudevents';
import { TraceRing } from '../../scripts/lib/runtime/traces';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing settings (standard OTEL_* variables)', () => {
  it('a function given no OTEL_* settings does not trace (no SDK is loaded)', () => {
    assert.equal(tracingSettings({}), undefined);
  });

  it('an OTLP endpoint switches a function on, every trace sampled unless the caller decided (parentbased_always_on)', () => {
    const s = tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', K_SERVICE: 'book-slot' }, false, '/app/build/functions/booking-queue/book-slot');
    assert.deepEqual(s, { exporters: ['otlp'], sampler: 'parentbased_always_on', ratio: 1, serviceName: 'book-slot', system: 'booking-queue' });
  });

  it('the sampler and its ratio come from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG', () => {
    const s = tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    assert.equal(s?.sampler, 'parentbased_traceidratio');
    assert.equal(s?.ratio, 0.1);
  });

  it('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off, on a laptop too', () => {
    assert.equal(tracingSettings({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), undefined);
    assert.equal(tracingSettings({ OTEL_SDK_DISABLED: 'TRUE' }, true), undefined);
    assert.equal(tracingSettings({ OTEL_TRACES_EXPORTER: 'none' }, true), undefined);
  });

  it('npm start traces by default: spans kept in memory, every trace sampled', () => {
    assert.deepEqual(tracingSettings({}, true, '/home/dev/portal'), { exporters: ['memory'], sampler: 'always_on', ratio: 1, serviceName: 'patient-portal', system: 'patient-portal' });
  });

  it('settings it cannot honour stop the start, naming the variable', () => {
    assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER: zipkin/);
    assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }), /OTEL_TRACES_SAMPLER: sometimes/);
    assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '10' }), /OTEL_TRACES_SAMPLER_ARG: 10/);
  });

  it('the system is the folder a function runs in', () => {
    assert.equal(systemOf('/app/build/functions/dead-letter/intake'), 'dead-letter');
    assert.equal(systemOf('/app'), 'patient-portal');
  });
});

describe('trace context on events, with tracing off', () => {
  const row: OutboxRow = {
    seq: 1n, id: '2f1c0f2e-8a51-4f43-9a33-0b0f8d3c2a11', topic: 'booking-events', key: 'b-1', type: 'com.medlab.booking.confirmed',
    source: '/booking-queue/book-slot', subject: null, time: new Date('2026-11-22T00:00:00Z'), data: { bookingId: 'b-1' },
  };

  it('the helpers are pass-throughs: no span, no context', async () => {
    assert.equal(tracingOn(), false);
    assert.equal(activeTraceCarrier(), undefined);
    assert.equal(await inSpan('x', {}, async (span) => span), undefined);
  });

  it('an outbox row stored with a trace context becomes a record carrying it as ce_traceparent and as traceparent', async () => {
    const records = await publishTraced([{ parent: { traceparent: TRACEPARENT, tracestate: 'medlab=1' }, name: 'publish', attributes: {} }], async (carriers) => [toBusRecord({ ...row, traceparent: TRACEPARENT, tracestate: 'medlab=1' }, carriers[0])]);
    const { headers } = records[0];
    assert.equal(headers.ce_traceparent, TRACEPARENT);
    assert.equal(headers.traceparent, TRACEPARENT);
    assert.equal(headers.ce_tracestate, 'medlab=1');
    assert.equal(headers.tracestate, 'medlab=1');
    // The KafkaSource passes it through to the consumer as the CloudEvent's extension.
    const wire = recordToEvent({ ...records[0], partition: 0, offset: 0 }, { name: 'src', namespace: 'ns' });
    assert.equal(wire.attributes.traceparent, TRACEPARENT);
  });

  it('a row without one (written with tracing off) becomes a record without trace headers', () => {
    const { headers } = toBusRecord(row);
    assert.equal(headers.ce_traceparent, undefined);
    assert.equal(headers.traceparent, undefined);
  });

  it('a CloudEvent that arrives with its own trace context keeps it on its record', () => {
    const { headers } = kafkaRecord('booking-requests', 'p-1', new CloudEvent<unknown>({ id: 'r-1', source: '/x', type: 'com.medlab.booking.requested', traceparent: TRACEPARENT, data: {} }));
    assert.equal(headers.ce_traceparent, TRACEPARENT);
    assert.equal(headers.traceparent, TRACEPARENT);
  });
});

describe('npm start\'s trace ring', () => {
  const span = (traceId: string, spanId: string, parent?: string, start = 0) => ({
    name: `s-${spanId}`, kind: 1, spanContext: () => ({ traceId, spanId, traceFlags: 1 }), parentSpanContext: parent ? { traceId, spanId: parent, traceFlags: 1 } : undefined,
    startTime: [1, start * 1e6] as [number, number], endTime: [1, (start + 5) * 1e6] as [number, number], duration: [0, 5e6] as [number, number],
    status: { code: 0 }, attributes: {}, links: [], events: [], ended: true, resource: { attributes: { 'service.name': 'patient-portal' } },
    instrumentationScope: { name: 't' }, droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
  });
  const id = (n: number) => n.toString(16).padStart(32, '0');

  it('keeps the newest traces up to its bound, and draws each parent before its children', () => {
    const ring = new TraceRing(2);
    const done = (spans: any[]) => ring.export(spans, () => undefined);
    done([span(id(1), 'a'.repeat(16))]);
    done([span(id(2), 'c'.repeat(16), 'b'.repeat(16), 2), span(id(2), 'b'.repeat(16), undefined, 1)]);
    done([span(id(3), 'd'.repeat(16))]);
    assert.deepEqual(ring.list().map((t) => t.traceId), [id(3), id(2)]);
    assert.deepEqual(ring.trace(id(2))!.map((s) => [s.name, s.depth]), [['s-bbbbbbbbbbbbbbbb', 0], ['s-cccccccccccccccc', 1]]);
    assert.equal(ring.trace(id(1)), undefined);
  });
});
