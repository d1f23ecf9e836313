// The SVIP2 results lane: a report the lis-results consumer parsed and matched to its patient is stored as
// the next version of its DiagnosticReport and released, held or withdrawn by the release rules (results.ts,
// release.ts), with result.released and the audit trail in the same transaction. The same report again has
// no second effect; a version out of order is refused into the audit trail, the stored one kept.
import { consume } from '../../shared/consume';
import { receiveResult } from '../results';
import { assertReleasePolicy } from '../release-policy';
import { topics } from '../events';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'patient-results-svip2-consumer';
assertReleasePolicy();

export const handle = consume(
  { name: NAME, system, topics: [topics.lanes.svip2], summary: 'Store SVIP2 patients\' lab reports and release them by the release rules' },
  { 'com.medlab.result.received-svip2': (data, { tx, emit }) => receiveResult(tx, emit, data, 'svip2', NAME) },
);
