// The LIS tells us where each visit's samples are: HL7 v2 messages on lis-sample-status (OML^O21 and
// ORL^O22 order status, SSU^U03 container status, specimen rejection in SPM-21). Each order or container
// in a message moves its sample forward on the visit; a sample taken marks the patient arrived, every order
// completed fulfils the visit, a rejected sample brings the patient an offer of a new collection. A message
// that cannot be read (400) or whose accession no visit has (422) goes to the dead-letter sink with the reason.
import { consumeHl7, type Hl7ConsumeContext } from '../../shared/hl7';
import type { Hl7Message } from '@medplum/core';
import { containerReports, orderReports, type SampleReport } from '../lis';
import { applySampleReport } from '../samples';
import { topics, type events } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

type Context = Hl7ConsumeContext<typeof events>;

/** Every order or container the message reports, in its order, in this one transaction. */
const apply = (read: (message: Hl7Message, at: Date) => SampleReport[]) => async (message: Hl7Message, { tx, emit, header }: Context) => {
  const samples = [];
  for (const report of read(message, header.sentAt)) samples.push(await applySampleReport(tx, emit, report));
  return { message: header.type, samples };
};

export const handle = consumeHl7(
  { name: 'lis-sample-status-consumer', system, topics: [topics.sampleStatus], summary: 'Move visits\' samples as the LIS reports them (HL7 v2)' },
  {
    'OML^O21': apply(orderReports),
    'ORL^O22': apply(orderReports),
    'SSU^U03': apply(containerReports),
  },
);
