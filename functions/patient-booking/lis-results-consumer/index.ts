// The LIS's results (HL7 v2.5.1 ORU^R01 on lis-results): each report (an OBR with its OBX) is read as a
// FHIR-shaped DiagnosticReport with Observations (oru.ts), matched to its order and patient
// (result-orders.ts), checked against the catalogue's units, and routed to the lane of the patient's tier
// (patient-results, -svip1, -svip2), keyed by accession, all in one transaction. The same message twice (a
// resend after a lost ACK) has no second effect. A message that cannot be read (400) or whose report cannot
// be placed (422: unknown order or patient, another patient's order, a unit not the catalogue's) goes to the
// dead-letter sink with the reason naming the HL7 field; nothing of it is routed.
import { consumeHl7, type Hl7ConsumeContext } from '../../shared/hl7';
import type { Hl7Message } from '@medplum/core';
import { resultReports } from '../oru';
import { checkAgainstCatalogue, matchReport } from '../result-orders';
import type { ResultReceived } from '../results';
import { tiers, topics, type events, type Tier } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

type Context = Hl7ConsumeContext<typeof events>;

async function route(message: Hl7Message, { tx, emit, header }: Context) {
  const receivedAt = new Date().toISOString();
  const routed = [];
  for (const r of resultReports(message)) {
    const { order, patient } = await matchReport(tx, r);
    const tier: Tier = (tiers as readonly string[]).includes(patient.tier) ? (patient.tier as Tier) : 'standard';
    const observations = await checkAgainstCatalogue(tx, r.report.observations);
    const data: ResultReceived = {
      patientId: r.patientId, accession: r.accession, tier,
      ...(r.orderNumber ? { orderNumber: r.orderNumber } : {}),
      ...(order.packageBookingId ? { packageBookingId: order.packageBookingId } : {}),
      ...(order.appointmentId ? { appointmentId: order.appointmentId } : {}),
      message: { sender: header.sender, controlId: header.controlId, index: r.index },
      report: { ...r.report, observations },
      receivedAt,
    };
    // The tier picks the lane: its own type, and with it its own topic (events.ts).
    if (tier === 'svip2') await emit('com.medlab.result.received-svip2', data);
    else if (tier === 'svip1') await emit('com.medlab.result.received-svip1', data);
    else await emit('com.medlab.result.received', data);
    routed.push({ accession: r.accession, code: r.report.code, lane: tier });
  }
  return { message: header.type, reports: routed };
}

export const handle = consumeHl7(
  { name: 'lis-results-consumer', system, topics: [topics.lisResults], summary: 'Read the LIS\'s results (HL7 v2 ORU^R01) and route each report to its patient\'s tier lane' },
  { 'ORU^R01': route },
);
