// Kafka records → CloudEvents the way Knative's KafkaSource does it: a record that already is a CloudEvent
// (binary ce_ headers, or structured application/cloudevents+json) passes through as that event; any other
// record becomes a dev.knative.kafka.event whose source names the KafkaSource and topic.
import { CloudEvent, HTTP, Kafka } from 'cloudevents';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string | number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp?: string | number;
}

export function recordToEvent(record: KafkaRecord, source: { name: string; namespace: string }): CloudEvent<unknown> {
  const contentType = record.headers['content-type'] ?? '';
  if (contentType.startsWith('application/cloudevents+json')) {
    // Structured mode: the value is the whole event.
    return new CloudEvent<unknown>(JSON.parse(record.value ?? '{}'));
  }
  if (record.headers.ce_specversion) {
    const event = Kafka.toEvent({
      headers: record.headers,
      key: record.key ?? '',
      value: record.value ?? '',
      body: record.value ?? '',
      timestamp: record.timestamp !== undefined ? String(record.timestamp) : undefined,
    } as any) as CloudEvent<unknown>;
    return Array.isArray(event) ? event[0] : event;
  }
  let data: unknown = record.value;
  if (contentType.includes('json') && record.value) {
    try { data = JSON.parse(record.value); } catch { /* leave as text */ }
  }
  return new CloudEvent<unknown>({
    id: `partition:${record.partition}/offset:${record.offset}`,
    type: 'dev.knative.kafka.event',
    source: `/apis/v1/namespaces/${source.namespace}/kafkasources/${source.name}#${record.topic}`,
    subject: `partition:${record.partition}#${record.offset}`,
    ...(record.timestamp !== undefined ? { time: new Date(Number(record.timestamp)).toISOString() } : {}),
    ...(record.key !== null ? { key: record.key, partitionkey: record.key } : {}),
    ...(contentType ? { datacontenttype: contentType } : {}),
    data,
  }, false);
}

/** HTTP binary-mode message for a CloudEvent, as Knative's dispatcher sends it to a sink. */
export function httpMessage(event: CloudEvent<unknown>): { headers: Record<string, string>; body: string } {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = String(v);
  const body = typeof message.body === 'string' ? message.body : message.body === undefined ? '' : JSON.stringify(message.body);
  return { headers, body };
}
