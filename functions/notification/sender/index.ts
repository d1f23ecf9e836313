// The sender (notification-deliveries, key deliveryId): each delivery-due is sent once on its channel. The
// delivery is claimed with the event's inbox row in one statement (a redelivered or concurrent event finds it
// claimed or already sent, and sends nothing), sent outside any transaction, and recorded after: sent or delivered; failed →
// the next channel of the plan; a provider outage → attempts+1 and a backoff the cron picks up, and after the
// last retry failed, failover and a 422 so the event reaches the dead-letter system with the reason.
import { consumer, failureAnswer, handled, DUPLICATE } from '../../shared/consume';
import { Problem } from '../../shared/errors';
import { asUnavailable } from '../../shared/db';
import { transaction } from '../../shared/outbox';
import { warmBeforeReady } from '../../shared/lifecycle';
import { precompile, problemsOf, type JsonSchema } from '../../shared/validate';
import { refuse } from '../../shared/config';
import { events, topics } from '../events';
import { system } from '../system';
import { channelSettings } from '../channels/settings';
import { assertNotificationPolicy } from '../intake/policy';
import { claim, recordSend, recordSent, type Claim, type Recorded } from '../deliveries';
import type { SendResult } from '../channels/channel';
import { prepare, sendInApp, sendOnce } from './send';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-sender';
const DUE = 'com.medlab.notification.delivery-due';
const contract = events[DUE];
const source = `/${system.name}/${NAME}`;
// Checked before the function takes events: in production a missing provider setting stops it, naming it, and
// so does a policy that cannot be read (the operators' teams and their addresses come from it).
warmBeforeReady(() => {
  refuse(() => void channelSettings());
  assertNotificationPolicy();
  precompile(contract.schema as JsonSchema);
});

export const handle = consumer(
  { name: NAME, system, topics: [topics.deliveries], summary: 'Send each due delivery once on its channel (SMTP, SMS provider, Web Push, inbox); retry outages with backoff; fail over to the next channel' },
  [DUE],
  async (event, { log, inbox, answered }) => {
    if (event.type !== DUE) {
      return new Problem(400, 'Unknown Event Type', `${NAME} handles ${DUE}`, [{ name: 'cloudevent/type', reason: `${event.type} is not handled` }]).response();
    }
    let data: unknown = event.data;
    if (typeof data === 'string' || Buffer.isBuffer(data)) {
      try { data = JSON.parse(data.toString()); } catch { /* the schema check reports it */ }
    }
    const problems = problemsOf(contract.schema as JsonSchema, data, 'data');
    if (problems.length) return new Problem(400, 'Invalid Event Data', problems.map((p) => `${p.name}: ${p.reason}`).join('; '), problems).response();
    const due = data as { deliveryId: string; notificationId: string; channel: string };

    // 1. The claim, with this event's inbox row and what to send, in one statement: only one sender ever holds a delivery.
    let claiming: Claim;
    try {
      claiming = await claim((onlyIf) => inbox(event, onlyIf), due.deliveryId);
    } catch (err) {
      return failureAnswer(err, log, { id: event.id, source: event.source, type: event.type });
    }
    if ('duplicate' in claiming) return answered(event, DUPLICATE);
    if ('skipped' in claiming) return answered(event, claiming);
    const { claimed: mine, notice } = claiming;
    const meta = { deliveryId: mine.id, notificationId: mine.notificationId, channel: mine.channel, attempt: mine.attempts + 1 };

    try {
      // 2. What to send, and the one send (outside any transaction: a provider may take seconds).
      const prepared = prepare(mine, notice);
      if ('refused' in prepared) {
        const recorded = await transaction(system, source, (tx, emit) => recordSend(tx, emit, mine, { kind: 'refused', errorCode: 'template', reason: prepared.refused }));
        // Every channel renders the same template: no failover, the dead-letter system keeps the reason.
        log.warn({ ...meta, refusal: prepared.refused }, 'the notice cannot be rendered; the delivery failed');
        return new Problem(422, 'Unprocessable Event', prepared.refused, [{ name: 'data/deliveryId', reason: prepared.refused }], {}, { recorded }).response();
      }
      const outcome = mine.channel === 'in-app' ? undefined : await sendOnce(prepared.send, mine.channel, log);
      // 3. What it did, recorded with its events: a send the provider took, in one statement while the delivery
      // is as this sender claimed it; anything else (a failure, an outage, a callback that came first) in a transaction.
      const took = outcome?.kind === 'result' && outcome.result.status !== 'failed' ? outcome.result as SendResult & { status: 'sent' | 'delivered' } : undefined;
      const recorded: Recorded = (took && await recordSent(mine, notice, took, source))
        ?? await transaction(system, source, async (tx, emit) => recordSend(tx, emit, mine, outcome ?? (await sendInApp(prepared.send, tx))));
      if (recorded.exhausted) {
        log.warn({ ...meta, reason: recorded.exhausted, failover: recorded.failover }, 'the provider stayed unavailable through every retry; dead-lettering');
        return new Problem(422, 'Unprocessable Event', `provider unavailable: ${recorded.exhausted}`, [{ name: 'data/channel', reason: recorded.exhausted }], {}, { recorded }).response();
      }
      log.info({ ...meta, status: recorded.status, retryAt: recorded.retryAt, failover: recorded.failover, unreachable: recorded.unreachable }, recorded.retryAt ? 'provider unavailable; retry planned' : 'delivery sent');
      return handled(recorded);
    } catch (err) {
      // The claim stays: it goes stale, and the cron's next delivery-due sends again with the same key.
      const down = asUnavailable(err);
      if (down) {
        log.warn({ ...meta, err: String(err) }, 'database unavailable after the claim; the delivery will be retried when its claim is stale');
        return down.response();
      }
      log.error({ ...meta, err }, 'the sender failed');
      return new Problem(500, 'Internal Server Error', 'the sender failed; the error is logged').response();
    }
  },
);
