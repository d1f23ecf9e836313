// Kafka records → CloudEvents the way Knative's KafkaSource does it (eventing-kafka-broker's data plane):
// a record that already is a CloudEvent (binary ce_ headers, or structured application/cloudevents+json)
// passes through as exactly that event, attribute for attribute; any other record, or one whose CloudEvent is
// invalid, becomes a dev.knative.kafka.event named after the source, topic, partition and offset, carrying the
// record's key and its headers as kafkaheader<name> extensions (InvalidCloudEventInterceptor).
// Events are kept as they travel (attributes as strings, data as bytes) rather than as the SDK's CloudEvent,
// whose constructor adds attributes (time, partitionkey) a record did not carry.
import { HTTP, type CloudEvent } from 'cloudevents';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string | number;
  key: string | null;
  value: Buffer | string | null;
  /** Header values decoded as UTF-8; of a repeated header the last value. */
  headers: Record<string, string>;
  timestamp?: string | number;
}

/** A CloudEvent on the wire: context attributes and extensions as strings, the data as bytes. */
export interface WireEvent {
  attributes: Record<string, string>;
  data?: Buffer;
}

const SPEC_VERSIONS = new Set(['1.0', '0.3']);
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** The attributes the CloudEvents SDK would refuse too: the record is then not a CloudEvent. */
function valid(attributes: Record<string, string>): boolean {
  const { specversion, id, source, type, time } = attributes;
  if (!SPEC_VERSIONS.has(specversion) || !id || !source || !type) return false;
  if (time !== undefined && Number.isNaN(Date.parse(time))) return false;
  return Object.keys(attributes).every((name) => ATTRIBUTE_NAME.test(name));
}

const bytes = (value: Buffer | string | null): Buffer | undefined =>
  value === null ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');

function headerCI(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Binary mode: every ce_ header is an attribute, content-type is datacontenttype, the value is the data. */
function binary(record: KafkaRecord): WireEvent | undefined {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.headers)) if (k.startsWith('ce_')) attributes[k.slice(3)] = v;
  const contentType = headerCI(record.headers, 'content-type');
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  if (!valid(attributes)) return undefined;
  return { attributes, data: bytes(record.value) };
}

/** Structured mode: the value is the whole event in JSON. */
function structured(record: KafkaRecord): WireEvent | undefined {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes(record.value)?.toString('utf8') ?? '');
  } catch {
    return undefined;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === 'data' || k === 'data_base64' || v === null || v === undefined) continue;
    attributes[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  if (!valid(attributes)) return undefined;
  let data: Buffer | undefined;
  if (typeof json.data_base64 === 'string') data = Buffer.from(json.data_base64, 'base64');
  else if ('data' in json && json.data !== undefined) {
    const mediaType = (attributes.datacontenttype ?? 'application/json').split(';')[0].trim().toLowerCase();
    const isJson = mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json');
    data = typeof json.data === 'string' && !isJson ? Buffer.from(json.data, 'utf8') : Buffer.from(JSON.stringify(json.data), 'utf8');
  }
  return { attributes, data };
}

/** Knative's conversion of a record that is not a (valid) CloudEvent: header names as extension names. */
export const kafkaHeaderExtension = (header: string) => `kafkaheader${header.toLowerCase().replace(/[^a-z0-9]/g, '')}`;

function plain(record: KafkaRecord, source: { name: string; namespace: string }): WireEvent {
  const attributes: Record<string, string> = {
    specversion: '1.0',
    id: `partition:${record.partition}/offset:${record.offset}`,
    type: 'dev.knative.kafka.event',
    source: `/apis/v1/namespaces/${source.namespace}/kafkasources/${source.name}#${record.topic}`,
    subject: `partition:${record.partition}#${record.offset}`,
  };
  if (record.timestamp !== undefined) attributes.time = new Date(Number(record.timestamp)).toISOString();
  if (record.key !== null) { attributes.partitionkey = record.key; attributes.key = record.key; }
  for (const [name, value] of Object.entries(record.headers)) {
    // content-type travels as datacontenttype, lower-cased, not as a kafkaheader extension.
    if (name.toLowerCase() === 'content-type') attributes.datacontenttype = value.toLowerCase();
    else attributes[kafkaHeaderExtension(name)] = value;
  }
  return { attributes, data: bytes(record.value) };
}

export function recordToEvent(record: KafkaRecord, source: { name: string; namespace: string }): WireEvent {
  const contentType = headerCI(record.headers, 'content-type') ?? '';
  const event = contentType.startsWith('application/cloudevents')
    ? (contentType.startsWith('application/cloudevents+json') ? structured(record) : undefined)
    : record.headers.ce_specversion !== undefined ? binary(record) : undefined;
  const wire = event ?? plain(record, source);
  // Where the record sat, as the KafkaSource's dispatcher adds it to every event it delivers (and so to what
  // reaches the dead-letter sink).
  wire.attributes.knativekafkapartition = String(record.partition);
  wire.attributes.knativekafkaoffset = String(record.offset);
  return wire;
}

/** The SDK's CloudEvent (as ping and tests build them) on the wire. */
export function fromCloudEvent(event: CloudEvent<unknown>): WireEvent {
  const { headers, body } = httpMessage(event);
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase().startsWith('ce-')) attributes[k.slice(3).toLowerCase()] = v;
    else if (k.toLowerCase() === 'content-type') attributes.datacontenttype = v;
  }
  return { attributes, data: body ? Buffer.from(body, 'utf8') : undefined };
}

// HTTP header values cannot carry characters outside printable ASCII: those are percent-encoded as UTF-8
// (CloudEvents HTTP binding, 3.1.3.2).
const headerValue = (v: string) => v.replace(/[^\x20-\x7e]+/g, (s) => encodeURIComponent(s));

/** HTTP binary-mode message of an event on the wire, as Knative's dispatcher sends it to a sink. */
export function wireHttpMessage(event: WireEvent): { headers: Record<string, string>; body?: Buffer } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.attributes)) {
    if (name === 'datacontenttype') headers['content-type'] = headerValue(value);
    else headers[`ce-${name}`] = headerValue(value);
  }
  return { headers, body: event.data };
}

/** HTTP binary-mode message for a CloudEvent, as Knative's dispatcher sends it to a sink. */
export function httpMessage(event: CloudEvent<unknown>): { headers: Record<string, string>; body: string } {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = String(v);
  const body = typeof message.body === 'string' ? message.body : message.body === undefined ? '' : JSON.stringify(message.body);
  return { headers, body };
}
