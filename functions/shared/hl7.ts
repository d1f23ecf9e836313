// consumeHl7(): the plumbing of a consumer of HL7 v2 messages (ER7 pipe text) from the LIS. A record on the
// topic arrives as a CloudEvent (the KafkaSource wraps a plain record as dev.knative.kafka.event; any type
// is accepted) whose data is the message. It is parsed with @medplum/core's Hl7Message, its MSH checked, and
// handed to the handler of its message type (MSH-9, e.g. 'SSU^U03') inside consume's inbox transaction.
// Each message counts once per sender (MSH-3, MSH-4) and control id (MSH-10): a resend after a lost ACK
// arrives at a new offset, under a new event id, and has no effect. The system needs an hl7_message table
// (sender, control_id, type) in its schema. A message that cannot be read is a 400 naming the HL7 field
// (hl7/MSH-9): never retried, straight to the dead-letter sink with the reason.
import { Hl7Message, type Hl7Segment } from '@medplum/core';
import { Problem } from './errors';
import { tableOf } from './db';
import { since } from './metrics';
import { consumer, DUPLICATE, type ConsumeContext, type ConsumerHandler, type ConsumerSpec } from './consume';
import type { EventCatalogue } from './system';

/** What the MSH says of a message, checked. */
export interface Hl7Header {
  /** MSH-9 message code and trigger event, e.g. 'SSU^U03'. */
  type: string;
  /** MSH-10. */
  controlId: string;
  /** MSH-3 and MSH-4 (sending application and facility) as one key, e.g. 'LIS|MEDLAB-HCM'. */
  sender: string;
  /** MSH-7, when the sender made the message. */
  sentAt: Date;
}

export interface Hl7ConsumeContext<E extends EventCatalogue> extends ConsumeContext<E> {
  header: Hl7Header;
}

export type Hl7Handlers<E extends EventCatalogue> = Record<string, (message: Hl7Message, ctx: Hl7ConsumeContext<E>) => Promise<unknown>>;

/** The wrapped record type a KafkaSource gives a record that is not a CloudEvent (what the LIS writes). */
export const KAFKA_RECORD_EVENT = 'dev.knative.kafka.event';

/** The only encoding characters (MSH-2) we read: component ^, repetition ~, escape \, subcomponent &. */
export const ENCODING_CHARACTERS = '^~\\&';

/**
 * A time without an offset is the sender's wall clock. The LIS runs in Vietnam (Asia/Ho_Chi_Minh: +07:00
 * all year, no daylight saving), so that is the offset assumed.
 */
export const LIS_UTC_OFFSET = '+0700';

/** A message that cannot be read: 400, with the HL7 field at fault as hl7/<field>. */
export const malformed = (field: string, reason: string) =>
  new Problem(400, 'Malformed HL7 Message', `hl7/${field}: ${reason}`, [{ name: `hl7/${field}`, reason }]);

/** A field's component as text ('' when absent): field and component 1-based, as HL7 names them (SAC-8, MSH-9.2). */
export function value(segment: Hl7Segment | undefined, field: number, component = 1): string {
  return segment?.getField(field)?.getComponent(component)?.trim() ?? '';
}

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/;

/** An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]) as an instant, or undefined when empty; malformed otherwise. */
export function hl7Time(text: string, field: string, utcOffset = LIS_UTC_OFFSET): Date | undefined {
  if (!text) return undefined;
  const m = DTM.exec(text);
  if (!m) throw malformed(field, `"${text.slice(0, 40)}" is not an HL7 time (YYYYMMDDHHMMSS[+/-ZZZZ])`);
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', frac = '', offset = utcOffset] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? frac.padEnd(4, '0') : ''}${offset.slice(0, 3)}:${offset.slice(3)}`;
  const at = new Date(iso);
  // Date rolls 31 February over into March: a time must read back as it was written.
  if (Number.isNaN(at.getTime()) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw malformed(field, `"${text}" is not a valid time`);
  }
  return at;
}

/** The event's data as HL7 text: bytes must be UTF-8; MLLP framing (VT … FS CR) and surrounding blanks are dropped. */
function textOf(data: unknown): string {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      throw malformed('MSH', 'is missing: the data is not text (not UTF-8)');
    }
  } else throw malformed('MSH', `is missing: the data is ${data === undefined || data === null ? 'empty' : 'not HL7 v2 text'}`);
  return text.replace(/^\uFEFF/, '').replace(/^[\s\x0b]+|[\s\x1c]+$/g, '');
}

/**
 * The message as the library parses it, with its MSH checked: present and first, the standard separators
 * (MSH-1 |, MSH-2 ^~\&), a type this consumer handles (MSH-9), a control id (MSH-10) and a time (MSH-7).
 * Segments may end with \r, \n or \r\n.
 */
export function readMessage(data: unknown, handled: readonly string[]): { message: Hl7Message; header: Hl7Header } {
  const text = textOf(data);
  if (!text.startsWith('MSH')) throw malformed('MSH', 'is missing: an HL7 v2 message begins with its MSH segment');
  if (text.charAt(3) !== '|') throw malformed('MSH-1', `must be "|" (the field separator), is "${text.charAt(3)}"`);
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(text);
  } catch {
    throw malformed('MSH', 'cannot be parsed');
  }
  const msh = message.header;
  // The library reports MSH-2 as the characters it will split by; the field as written is fields[1].
  const encoding = msh.fields[1]?.toString() ?? '';
  if (encoding !== ENCODING_CHARACTERS) throw malformed('MSH-2', `must be ${ENCODING_CHARACTERS} (the standard encoding characters), is "${encoding.slice(0, 10)}"`);
  const code = value(msh, 9, 1);
  const trigger = value(msh, 9, 2);
  if (!code) throw malformed('MSH-9', 'is required (message type, e.g. SSU^U03)');
  const type = trigger ? `${code}^${trigger}` : code;
  if (!handled.includes(type)) throw malformed('MSH-9', `${type.slice(0, 20)} is not handled here (handles ${handled.join(', ')})`);
  const controlId = msh.getField(10)?.toString().trim() ?? '';
  if (!controlId) throw malformed('MSH-10', 'is required (message control id)');
  if (controlId.length > 199) throw malformed('MSH-10', 'is longer than 199 characters');
  const sentAt = hl7Time(value(msh, 7), 'MSH-7');
  if (!sentAt) throw malformed('MSH-7', 'is required (date/time of message)');
  const sender = `${msh.getField(3)?.toString().trim() ?? ''}|${msh.getField(4)?.toString().trim() ?? ''}`;
  return { message, header: { type, controlId, sender, sentAt } };
}

/** A consumer of HL7 v2 messages, one handler per message type (MSH-9 code^trigger, e.g. 'OML^O21'). */
export function consumeHl7<const E extends EventCatalogue>(spec: ConsumerSpec<E>, handlers: Hl7Handlers<E>): ConsumerHandler {
  const handled = Object.keys(handlers);
  const seen = tableOf(spec.system, 'hl7_message');
  return consumer(spec, [KAFKA_RECORD_EVENT], async (event, { log, metrics, once }) => {
    const meta = { id: event.id, source: event.source, type: event.type };
    const reading = performance.now();
    let read: ReturnType<typeof readMessage>;
    try {
      read = readMessage(event.data, handled);
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      // The reason names a field and says what is wrong with it; never the message itself (it may name a patient).
      log.warn({ event: meta, problem: err.invalidParams }, 'HL7 message cannot be read; dead-lettering');
      return err.response();
    } finally {
      metrics.validation.observe(since(reading));
    }
    const { message, header } = read;
    return once(event, async (ctx) => {
      const fresh = await ctx.tx.$executeRaw`
        INSERT INTO ${seen} (sender, control_id, type) VALUES (${header.sender}, ${header.controlId}, ${header.type})
        ON CONFLICT DO NOTHING`;
      if (fresh === 0) return DUPLICATE;
      return handlers[header.type](message, { ...ctx, header });
    }, (field) => `hl7/${field}`);
  });
}
