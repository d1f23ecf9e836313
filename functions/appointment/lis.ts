// What the LIS's HL7 v2 messages say of a visit's samples, and how a sample's status moves: pure functions,
// no database. OML^O21 / ORL^O22 report an order (ORC) and its specimens (SPM); SSU^U03 reports specimen
// containers (SAC) on the analysers. Each ORC or SAC becomes one report about one accession number.
// A sample only moves forward (ordered < collected < received < in-process < completed), whatever order
// the messages arrive in; it can be rejected before it is completed, and a new collection starts again.
import type { Hl7Message, Hl7Segment } from '@medplum/core';
import { hl7Time, malformed, value } from '../shared/hl7';
import type { sampleStatuses } from './events';

export type SampleStatus = (typeof sampleStatuses)[number];

export interface SampleReport {
  accession: string;
  /** The HL7 field the accession was read from (ORC-3, SPM-2, SAC-2 …): a refusal names it. */
  accessionField: string;
  /** ORC-2 placer order number, when it is one of our appointment ids (a uuid). */
  placerOrder?: string;
  /** ORC-5 order status (HL7 table 0038: SC, IP, A, CM, CA, DC, HD, ER …). */
  orderStatus?: string;
  /** Where the sample is, when the message says. */
  sampleStatus?: Exclude<SampleStatus, 'ordered'>;
  /** SPM-21 specimen reject reason (HL7 table 0490: RH, QS, RB, RC, EX …). */
  rejectReason?: string;
  /** SAC-8 container status (HL7 table 0370). */
  containerStatus?: string;
  /** SAC-8 M (missing) or X (unavailable): the container cannot be found; a timeline entry, no status move. */
  missing?: boolean;
  /** MSH-7: when the LIS said it. */
  at: Date;
}

const ACCESSION = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ORDER_STATUS = /^[A-Z]{1,2}$/;
const REJECT_REASON = /^[A-Za-z0-9]{1,20}$/;

export const RANK: Record<Exclude<SampleStatus, 'rejected'>, number> = { ordered: 0, collected: 1, received: 2, 'in-process': 3, completed: 4 };

/** HL7 table 0370 container status → what it means for the sample ('missing': cannot be found; null: no change). */
export const CONTAINER_STATUS: Record<string, Exclude<SampleStatus, 'ordered' | 'rejected'> | 'missing' | null> = {
  I: 'collected', // identified
  P: 'received', // in position
  O: 'in-process', // in process
  R: 'completed', // process completed
  M: 'missing', // missing
  X: 'missing', // container unavailable
  L: null, // left equipment
  U: null, // unknown
};

/** ORC-5 order statuses that say the sample is being worked on, or is done. */
const ORDER_PROGRESS: Record<string, 'in-process' | 'completed'> = { IP: 'in-process', A: 'in-process', CM: 'completed' };

const later = (a: SampleReport['sampleStatus'], b: SampleReport['sampleStatus']) =>
  !a ? b : !b ? a : a === 'rejected' || b === 'rejected' ? 'rejected' : RANK[a] >= RANK[b] ? a : b;

/** The first of (segment, field, component) that has a value, as an accession, with the field it came from. */
function accessionOf(candidates: Array<[Hl7Segment | undefined, string, number, number]>): { accession: string; accessionField: string } {
  for (const [segment, field, index, component] of candidates) {
    const accession = value(segment, index, component);
    if (!accession) continue;
    if (!ACCESSION.test(accession)) throw malformed(field, `"${accession.slice(0, 40)}" is not an accession number (letters, digits and . _ : @ / -, at most 100)`);
    return { accession, accessionField: field };
  }
  throw malformed(candidates[0][1], `is required: no accession number (${candidates.map((c) => c[1]).join(', ')} are all empty)`);
}

function rejectReasonOf(spm: Hl7Segment): string | undefined {
  const code = value(spm, 21);
  if (!code) return undefined;
  if (!REJECT_REASON.test(code)) throw malformed('SPM-21', `"${code.slice(0, 40)}" is not a reject reason code (HL7 table 0490)`);
  return code;
}

/** What the specimens (SPM) of one order or container say: collected (SPM-17), received (SPM-18), rejected (SPM-21). */
function specimenStatus(spms: Hl7Segment[]): { sampleStatus?: SampleReport['sampleStatus']; rejectReason?: string } {
  let sampleStatus: SampleReport['sampleStatus'];
  let rejectReason: string | undefined;
  for (const spm of spms) {
    if (hl7Time(value(spm, 17), 'SPM-17')) sampleStatus = later(sampleStatus, 'collected');
    if (hl7Time(value(spm, 18), 'SPM-18')) sampleStatus = later(sampleStatus, 'received');
    const reason = rejectReasonOf(spm);
    if (reason) { sampleStatus = 'rejected'; rejectReason = reason; }
  }
  return { sampleStatus, rejectReason };
}

/** Segments in groups, each opened by a `head` segment and holding the `member` segments that follow it. */
function groups(message: Hl7Message, head: string, member: string): Array<{ head: Hl7Segment; members: Hl7Segment[] }> {
  const out: Array<{ head: Hl7Segment; members: Hl7Segment[] }> = [];
  for (const segment of message.segments) {
    if (segment.name === head) out.push({ head: segment, members: [] });
    else if (segment.name === member && out.length) out[out.length - 1].members.push(segment);
  }
  if (!out.length) throw malformed(head, `is missing: the message reports no ${head === 'ORC' ? 'order' : 'container'}`);
  return out;
}

/**
 * OML^O21 (an order, sent with its status) and ORL^O22 (the LIS's answer to an order): one report per ORC.
 * Accession: ORC-3 filler order number, else SPM-2 (filler, then placer id). ORC-2 may be our appointment id.
 */
export function orderReports(message: Hl7Message, at: Date): SampleReport[] {
  return groups(message, 'ORC', 'SPM').map(({ head: orc, members: spms }) => {
    const { accession, accessionField } = accessionOf([[orc, 'ORC-3', 3, 1], ...spms.flatMap((spm): Array<[Hl7Segment, string, number, number]> => [[spm, 'SPM-2', 2, 2], [spm, 'SPM-2', 2, 1]])]);
    const placer = value(orc, 2);
    const orderStatus = value(orc, 5) || undefined;
    if (orderStatus && !ORDER_STATUS.test(orderStatus)) throw malformed('ORC-5', `"${orderStatus.slice(0, 20)}" is not an order status (HL7 table 0038: SC, IP, A, CM, CA …)`);
    const specimens = specimenStatus(spms);
    // A rejection outweighs any progress; otherwise the furthest stage either says.
    const sampleStatus = later(specimens.sampleStatus, orderStatus ? ORDER_PROGRESS[orderStatus] : undefined);
    return {
      accession, accessionField, at,
      ...(UUID.test(placer) ? { placerOrder: placer.toLowerCase() } : {}),
      ...(orderStatus ? { orderStatus } : {}),
      ...(sampleStatus ? { sampleStatus } : {}),
      ...(specimens.rejectReason ? { rejectReason: specimens.rejectReason } : {}),
    };
  });
}

/**
 * SSU^U03 (specimen status update): one report per SAC. Accession: SAC-2, else SAC-1 (external accession),
 * else SAC-3 (container id). SAC-8 container status moves the sample; an SPM with SPM-21 rejects it.
 */
export function containerReports(message: Hl7Message, at: Date): SampleReport[] {
  return groups(message, 'SAC', 'SPM').map(({ head: sac, members: spms }) => {
    const { accession, accessionField } = accessionOf([[sac, 'SAC-2', 2, 1], [sac, 'SAC-1', 1, 1], [sac, 'SAC-3', 3, 1]]);
    const containerStatus = value(sac, 8) || undefined;
    if (containerStatus && !(containerStatus in CONTAINER_STATUS)) {
      throw malformed('SAC-8', `"${containerStatus.slice(0, 20)}" is not a container status (HL7 table 0370: I, P, O, R, M, X, L, U)`);
    }
    const meaning = containerStatus ? CONTAINER_STATUS[containerStatus] : null;
    const specimens = specimenStatus(spms);
    const rejected = specimens.sampleStatus === 'rejected';
    return {
      accession, accessionField, at,
      ...(containerStatus ? { containerStatus } : {}),
      ...(rejected ? { sampleStatus: 'rejected' as const, rejectReason: specimens.rejectReason }
        : meaning === 'missing' ? { missing: true }
          : meaning ? { sampleStatus: meaning } : {}),
    };
  });
}

export interface SampleState {
  sampleStatus: SampleStatus;
  /** MSH-7 of the message that last set it (null: nothing reported yet). */
  statusAt: Date | null;
}

/**
 * Where a report moves the sample, or undefined when it does not:
 * - a later stage moves it forward, whenever the message was sent (messages overtake each other);
 * - nothing moves it back; a message older than the last move cannot reject it or restart it;
 * - a rejection can come at any stage before completed;
 * - after a rejection any newer report is the new sample, and the stages start again.
 */
export function advance(current: SampleState, report: Pick<SampleReport, 'sampleStatus' | 'at'>): SampleStatus | undefined {
  const next = report.sampleStatus;
  if (!next || next === current.sampleStatus) return undefined;
  const older = !!current.statusAt && report.at.getTime() < current.statusAt.getTime();
  if (next === 'rejected') return current.sampleStatus !== 'completed' && !older ? next : undefined;
  if (current.sampleStatus === 'rejected') return older ? undefined : next;
  return RANK[next] > RANK[current.sampleStatus] ? next : undefined;
}
