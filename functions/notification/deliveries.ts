// A delivery's life in the database, shared by the sender and the updates consumer: the sender's claim, what
// a send or a report does to the status (forward only, delivery-rules.ts), the history row per report, the
// delivery-changed event, and the failover to the next channel of the plan (or unreachable when none is left).
import { db, tableOf, typeOf, Prisma, type Tx } from '../shared/db';
import { notFound } from '../shared/domain-errors';
import type { NotificationEmit } from './system';
import { outboxClause } from '../shared/outbox';
import { publishSoon } from '../shared/publisher';
import { system } from './system';
import { advance, isFinalFailure, nextAttemptAt, nextChannel, type DeliveryStatus } from './delivery-rules';
import type { ChannelName, SendResult } from './channels/channel';

/**
 * A claim older than this is a sender that died mid-send: another may take the delivery and send it again,
 * with the same send key. A send takes 15 s at most (the channels' timeouts), so 2 minutes is stale.
 */
export const CLAIM_STALE_SECONDS = 120;

export interface Claimed {
  id: string; notificationId: string; channel: ChannelName; attempts: number;
  /** The send's identity for the provider: the delivery id, or the one a staff resend made. */
  sendKey: string;
}

const delivery = tableOf(system, 'delivery');
const notification = tableOf(system, 'notification');
const contact = tableOf(system, 'contact_point');
const pushSubscription = tableOf(system, 'push_subscription');
const history = tableOf(system, 'delivery_event');
const deliveryStatus = typeOf(system, 'delivery_status');

/** A dispatched notification with nothing left queued is done: every delivery handed to its provider or finished. */
async function settle(tx: Tx, notificationId: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE ${notification} SET status = 'done', updated_at = now()
    WHERE id = ${notificationId}::uuid AND status = 'dispatched'
      AND NOT EXISTS (SELECT 1 FROM ${delivery} WHERE notification_id = ${notificationId}::uuid AND status = 'queued')`;
}

/** The notice a claimed delivery sends and where, as the notification and the contact copy were when it was claimed. */
export interface NoticeToSend {
  id: string; requestId: string; patientId: string | null; recipientKind: string; team: string | null; template: string; category: string; variables: unknown;
  /** The contact copy is there and not erased. */
  usable: boolean; email: string | null; phone: string | null; language: string | null;
  /** The patient's live push subscriptions, oldest first (push deliveries only). */
  push: Array<{ id: string; endpoint: string; p256dh: string; auth: string }> | null;
}

export type Claim = { duplicate: true } | { skipped: string } | { claimed: Claimed; notice: NoticeToSend };

/**
 * Takes a queued delivery for one send, with the event's inbox row, and reads what to send, in one statement:
 * only when no live claim holds it and its next attempt is due. The conditional UPDATE takes the row lock, so
 * of two senders given the same delivery one claims it and the other finds it claimed. The next attempt is
 * set to when the claim goes stale: if this sender dies, the cron's re-emitted delivery-due finds it then.
 */
export async function claim(inbox: (onlyIf: Prisma.Sql) => Prisma.Sql, deliveryId: string): Promise<Claim> {
  const known = Prisma.sql`EXISTS (SELECT 1 FROM ${delivery} WHERE id = ${deliveryId}::uuid)`;
  const [row] = await db().$queryRaw<Array<{ known: boolean; fresh: boolean } & Partial<Claimed> & NoticeToSend>>`
    WITH ${inbox(known)}, claimed AS (
      UPDATE ${delivery} SET claimed_at = now(), next_attempt_at = now() + make_interval(secs => ${CLAIM_STALE_SECONDS})
      WHERE id = ${deliveryId}::uuid AND status = 'queued' AND EXISTS (SELECT 1 FROM inbox)
        AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => ${CLAIM_STALE_SECONDS}))
        AND (next_attempt_at IS NULL OR next_attempt_at <= now())
      RETURNING id, notification_id, channel, attempts, send_key)
    SELECT ${known} AS known, EXISTS (SELECT 1 FROM inbox) AS fresh,
      d.id::text AS id, d.notification_id::text AS "notificationId", d.channel, d.attempts, COALESCE(d.send_key, d.id)::text AS "sendKey",
      n.request_id AS "requestId", n.patient_id AS "patientId", n.recipient_kind AS "recipientKind", n.team, n.template, n.category, n.variables,
      c.patient_id IS NOT NULL AND NOT c.erased AS usable, c.email, c.phone, c.language,
      CASE WHEN d.channel = 'push' THEN COALESCE((
        SELECT json_agg(json_build_object('id', s.id, 'endpoint', s.endpoint, 'p256dh', s.p256dh, 'auth', s.auth) ORDER BY s.created_at)
        FROM ${pushSubscription} s WHERE s.patient_id = n.patient_id AND s.gone_at IS NULL), '[]') END AS push
    FROM (SELECT 1) one LEFT JOIN claimed d ON true
      LEFT JOIN ${notification} n ON n.id = d.notification_id LEFT JOIN ${contact} c ON c.patient_id = n.patient_id`;
  // A delivery-due naming no delivery can never be sent: refused, and no inbox row kept (a redrive is handled).
  if (!row.known) throw notFound('deliveryId');
  if (!row.fresh) return { duplicate: true };
  if (row.id) {
    if (!row.requestId) throw new Error(`notification ${row.notificationId} of delivery ${row.id} is gone`);
    const { id, notificationId, channel, attempts, sendKey } = row as Claimed & NoticeToSend;
    return { claimed: { id, notificationId, channel, attempts, sendKey }, notice: { ...row, id: notificationId } };
  }
  const found = await db().delivery.findUnique({ where: { id: deliveryId }, select: { status: true, claimedAt: true } });
  if (!found) return { skipped: 'it is gone' };
  return { skipped: found.status !== 'queued' ? `already ${found.status}` : found.claimedAt ? 'another sender holds it' : 'its next attempt is not due yet' };
}

type NotificationRow = { id: string; requestId: string; patientId: string | null; team: string | null; template: string; category: string; channels: string[] };

async function notificationOf(tx: Tx, id: string): Promise<NotificationRow> {
  return tx.notification.findUniqueOrThrow({ where: { id }, select: { id: true, requestId: true, patientId: true, team: true, template: true, category: true, channels: true } });
}

async function changed(emit: NotificationEmit, n: NotificationRow, d: { id: string; channel: string }, status: DeliveryStatus, at: Date): Promise<void> {
  await emit('com.medlab.notification.delivery-changed', {
    notificationId: n.id, deliveryId: d.id, requestId: n.requestId, ...(n.patientId ? { patientId: n.patientId } : {}),
    channel: d.channel as ChannelName, status, at: at.toISOString(), template: n.template, category: n.category,
  });
}

export type Outcome =
  | { kind: 'result'; result: SendResult }
  /** Nothing could be sent on any channel (a template that cannot be filled): failed, with no failover. */
  | { kind: 'refused'; errorCode: string; reason: string }
  | { kind: 'unavailable'; reason: string; retryAfterSeconds?: number };

export interface Recorded {
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (a passing failure). */
  retryAt?: string;
  /** The last attempt of an outage: the caller dead-letters the event with this reason. */
  exhausted?: string;
  failover?: ChannelName;
  unreachable?: boolean;
}

/** What one send did: the status (forward only), one history row, delivery-changed; a failure hands over to the next channel. */
export async function recordSend(tx: Tx, emit: NotificationEmit, claimed: Claimed, outcome: Outcome, now = new Date()): Promise<Recorded> {
  // The delivery as it is now (a provider's callback may have come first) and its notification, in one read.
  const [row] = await tx.$queryRaw<Array<{ status: DeliveryStatus; attempts: number } & NotificationRow>>`
    SELECT d.status::text AS status, d.attempts, n.id::text AS id, n.request_id AS "requestId", n.patient_id AS "patientId", n.team,
      n.template, n.category, n.channels
    FROM ${delivery} d JOIN ${notification} n ON n.id = d.notification_id WHERE d.id = ${claimed.id}::uuid FOR UPDATE OF d`;
  const current = { status: row.status, attempts: row.attempts };
  const attempts = current.attempts + 1;
  const n: NotificationRow = { id: row.id, requestId: row.requestId, patientId: row.patientId, team: row.team, template: row.template, category: row.category, channels: row.channels };
  if (outcome.kind === 'unavailable') {
    const retryAt = nextAttemptAt(attempts, now, outcome.retryAfterSeconds);
    if (retryAt) {
      await tx.delivery.update({ where: { id: claimed.id }, data: { attempts, nextAttemptAt: retryAt, claimedAt: null, lastError: outcome.reason.slice(0, 300) } });
      return { status: current.status, attempts, retryAt: retryAt.toISOString() };
    }
    const reason = `${attempts} attempts failed: ${outcome.reason}`.slice(0, 300);
    const after = await fail(tx, emit, n, claimed, current.status, 'provider-unavailable', reason, attempts, now);
    return { ...after, exhausted: reason };
  }
  if (outcome.kind === 'refused') return fail(tx, emit, n, claimed, current.status, outcome.errorCode, outcome.reason, attempts, now, undefined, false);
  const { result } = outcome;
  if (result.status === 'failed') return fail(tx, emit, n, claimed, current.status, result.errorCode ?? 'failed', result.errorCode ?? 'failed', attempts, now, result);
  const next = advance(current.status, result.status);
  await tx.delivery.update({
    where: { id: claimed.id },
    data: {
      attempts, claimedAt: null, nextAttemptAt: null, lastError: null, provider: result.provider,
      ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
      ...(next ? { status: next, statusAt: now } : {}),
    },
  });
  await tx.deliveryEvent.createMany({ data: [{ deliveryId: claimed.id, status: result.status, at: now, source: 'sender' }], skipDuplicates: true });
  if (next) await changed(emit, n, claimed, next, now);
  await settle(tx, n.id);
  return { status: next ?? current.status, attempts };
}

/**
 * What most sends are, recorded in one statement (no interactive transaction): the provider took it (sent) or
 * it arrived at once (delivered) while the delivery is still queued, as this sender claimed it. The status,
 * the history row, delivery-changed and the notification's settling all depend on the delivery still being
 * queued; when it is not (a provider's callback came first), nothing is written and undefined comes back, for
 * recordSend's transaction to weigh the report against what came first.
 */
export async function recordSent(claimed: Claimed, notice: Pick<NoticeToSend, 'id' | 'requestId' | 'patientId' | 'template' | 'category'>, result: SendResult & { status: 'sent' | 'delivered' }, source: string, now = new Date()): Promise<Recorded | undefined> {
  const moved = Prisma.sql`EXISTS (SELECT 1 FROM moved)`;
  const events = await outboxClause(system, source, moved, (emit) => changed(emit, { ...notice, team: null, channels: [] }, claimed, result.status, now));
  const [{ attempts }] = await db().$queryRaw<Array<{ attempts: number | null }>>`
    WITH moved AS (
      UPDATE ${delivery} SET attempts = attempts + 1, claimed_at = NULL, next_attempt_at = NULL, last_error = NULL, provider = ${result.provider},
        provider_message_id = COALESCE(${result.providerMessageId ?? null}, provider_message_id), status = ${result.status}::${deliveryStatus}, status_at = ${now}
      WHERE id = ${claimed.id}::uuid AND status = 'queued'
      RETURNING id, attempts),
    written AS (
      INSERT INTO ${history} (delivery_id, status, at, source) SELECT id, ${result.status}::${deliveryStatus}, ${now}, 'sender' FROM moved ON CONFLICT DO NOTHING),
    ${events},
    settled AS (
      UPDATE ${notification} SET status = 'done', updated_at = now()
      WHERE id = ${notice.id}::uuid AND status = 'dispatched' AND ${moved}
        AND NOT EXISTS (SELECT 1 FROM ${delivery} WHERE notification_id = ${notice.id}::uuid AND status = 'queued' AND id <> ${claimed.id}::uuid))
    SELECT (SELECT attempts FROM moved) AS attempts`;
  if (attempts === null) return undefined;
  publishSoon(system, source);
  return { status: result.status, attempts };
}

async function fail(tx: Tx, emit: NotificationEmit, n: NotificationRow, d: Claimed, current: DeliveryStatus, errorCode: string, lastError: string, attempts: number, now: Date, result?: SendResult, failingOver = true): Promise<Recorded> {
  const next = advance(current, 'failed');
  await tx.delivery.update({
    where: { id: d.id },
    data: {
      attempts, claimedAt: null, nextAttemptAt: null, lastError: lastError.slice(0, 300),
      ...(result ? { provider: result.provider, ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}) } : {}),
      ...(next ? { status: next, statusAt: now } : {}),
    },
  });
  await tx.deliveryEvent.createMany({ data: [{ deliveryId: d.id, status: 'failed', at: now, source: 'sender', errorCode: errorCode.slice(0, 60) }], skipDuplicates: true });
  if (!next) return { status: current, attempts };
  await changed(emit, n, d, next, now);
  const handover = failingOver ? await failover(tx, emit, n, d.channel, now) : {};
  await settle(tx, n.id);
  return { status: next, attempts, ...handover };
}

/**
 * The channel `failed` gave up: the next of the plan with no delivery yet gets one (queued) and its
 * delivery-due; with none left and no other channel that got through, the notification is unreachable (its
 * in-app item is there all the same).
 */
export async function failover(tx: Tx, emit: NotificationEmit, n: NotificationRow, failed: string, now = new Date()): Promise<{ failover?: ChannelName; unreachable?: boolean }> {
  const existing = await tx.delivery.findMany({ where: { notificationId: n.id }, select: { channel: true, status: true, lastError: true } });
  const next = nextChannel(n.channels, failed, existing.map((d) => d.channel));
  if (next) {
    // Two channels failing at once both fail over here: the unique (notification, channel) lets one create it.
    const made = await tx.delivery.createMany({ data: [{ notificationId: n.id, channel: next }], skipDuplicates: true });
    if (made.count === 0) return {};
    const created = await tx.delivery.findUniqueOrThrow({ where: { notificationId_channel: { notificationId: n.id, channel: next } }, select: { id: true } });
    await tx.deliveryEvent.create({ data: { deliveryId: created.id, status: 'queued', at: now, source: 'sender' } });
    await changed(emit, n, { id: created.id, channel: next }, 'queued', now);
    await emit('com.medlab.notification.delivery-due', { deliveryId: created.id, notificationId: n.id, channel: next, attempt: 1 });
    return { failover: next };
  }
  const gotThrough = existing.some((d) => d.channel !== 'in-app' && ['sent', 'delivered', 'read'].includes(d.status));
  const pending = existing.some((d) => d.channel !== 'in-app' && d.status === 'queued');
  if (gotThrough || pending) return {};
  const moved = await tx.notification.updateMany({ where: { id: n.id, status: { notIn: ['unreachable', 'cancelled'] } }, data: { status: 'unreachable' } });
  if (moved.count === 0) return {};
  const reason = existing.filter((d) => d.channel !== 'in-app').map((d) => `${d.channel} ${d.status}${d.lastError ? ` (${d.lastError.split(':')[0]})` : ''}`).join(', ');
  await emit('com.medlab.notification.unreachable', {
    notificationId: n.id, requestId: n.requestId, patientId: n.patientId ?? `team:${n.team ?? 'unknown'}`, template: n.template,
    reason: (reason ? `every channel failed: ${reason}` : 'no channel but the in-app inbox').slice(0, 300),
  });
  return { unreachable: true };
}

export interface Report { deliveryId: string; status: DeliveryStatus; at: Date; source: string; errorCode?: string; provider?: string; providerMessageId?: string }

/**
 * A provider's report or the patient's read: one history row per (delivery, source, status), the status only
 * forward, delivery-changed on a real change, and failover when the provider says undelivered or failed.
 */
export async function applyReport(tx: Tx, emit: NotificationEmit, report: Report): Promise<{ changed: boolean; status: DeliveryStatus; duplicate?: boolean; failover?: ChannelName; unreachable?: boolean }> {
  const [current] = await tx.$queryRaw<Array<{ id: string; notificationId: string; channel: ChannelName; status: DeliveryStatus }>>`
    SELECT id::text AS id, notification_id::text AS "notificationId", channel, status::text AS status FROM ${delivery} WHERE id = ${report.deliveryId}::uuid FOR UPDATE`;
  if (!current) throw notFound('deliveryId');
  const recorded = await tx.deliveryEvent.createMany({
    data: [{ deliveryId: current.id, status: report.status, at: report.at, source: report.source.slice(0, 200), errorCode: report.errorCode ?? null }],
    skipDuplicates: true,
  });
  if (recorded.count === 0) return { changed: false, status: current.status, duplicate: true };
  const next = advance(current.status, report.status);
  if (!next) return { changed: false, status: current.status };
  await tx.delivery.update({
    where: { id: current.id },
    data: {
      status: next, statusAt: report.at,
      ...(isFinalFailure(next) ? { lastError: report.errorCode ? `provider ${report.errorCode}` : `provider ${next}`, nextAttemptAt: null, claimedAt: null } : {}),
      ...(report.providerMessageId ? { providerMessageId: report.providerMessageId } : {}),
    },
  });
  const n = await notificationOf(tx, current.notificationId);
  await changed(emit, n, current, next, report.at);
  if (!isFinalFailure(next)) return { changed: true, status: next };
  return { changed: true, status: next, ...(await failover(tx, emit, n, current.channel)) };
}

export type Applied = Awaited<ReturnType<typeof applyReport>>;

/**
 * Most reports (a provider's sent, delivered or read, or the same again) in one statement with the event's
 * inbox row, no interactive transaction: the delivery as it was read must still be so under the row lock, or
 * nothing is written (not even the inbox row) and undefined comes back, as it does for a failure, which fails
 * over: applyReport's transaction handles those. 'seen': the event was handled before.
 */
export async function applyReportAtOnce(inbox: (onlyIf: Prisma.Sql) => Prisma.Sql, report: Report, source: string): Promise<Applied | 'seen' | undefined> {
  if (isFinalFailure(report.status)) return undefined;
  const [row] = await db().$queryRaw<Array<{ status: DeliveryStatus; channel: ChannelName } & NotificationRow>>`
    SELECT d.status::text AS status, d.channel, n.id::text AS id, n.request_id AS "requestId", n.patient_id AS "patientId", n.team, n.template, n.category, n.channels
    FROM ${delivery} d JOIN ${notification} n ON n.id = d.notification_id WHERE d.id = ${report.deliveryId}::uuid`;
  if (!row) return undefined;
  const next = advance(row.status, report.status);
  const moved = Prisma.sql`EXISTS (SELECT 1 FROM moved)`;
  const events = await outboxClause(system, source, moved, async (emit) => {
    if (next) await changed(emit, row, { id: report.deliveryId, channel: row.channel }, next, report.at);
  });
  const [done] = await db().$queryRaw<Array<{ same: boolean; fresh: boolean; recorded: boolean; moved: boolean }>>`
    WITH now_ AS (SELECT status FROM ${delivery} WHERE id = ${report.deliveryId}::uuid FOR UPDATE),
    same AS (SELECT 1 FROM now_ WHERE status = ${row.status}::${deliveryStatus}),
    ${inbox(Prisma.sql`EXISTS (SELECT 1 FROM same)`)},
    written AS (
      INSERT INTO ${history} (delivery_id, status, at, source, error_code)
      SELECT ${report.deliveryId}::uuid, ${report.status}::${deliveryStatus}, ${report.at}, ${report.source.slice(0, 200)}, ${report.errorCode ?? null} FROM inbox
      ON CONFLICT DO NOTHING RETURNING 1),
    moved AS (
      UPDATE ${delivery} SET status = ${next ?? row.status}::${deliveryStatus}, status_at = ${report.at},
        provider_message_id = COALESCE(${report.providerMessageId ?? null}, provider_message_id)
      WHERE id = ${report.deliveryId}::uuid AND ${Boolean(next)} AND EXISTS (SELECT 1 FROM written) RETURNING 1),
    ${events}
    SELECT EXISTS (SELECT 1 FROM same) AS same, EXISTS (SELECT 1 FROM inbox) AS fresh, EXISTS (SELECT 1 FROM written) AS recorded, ${moved} AS moved`;
  if (!done.same) return undefined;
  if (!done.fresh) return 'seen';
  if (done.moved) publishSoon(system, source);
  if (!done.recorded) return { changed: false, status: row.status, duplicate: true };
  return next && done.moved ? { changed: true, status: next } : { changed: false, status: row.status };
}
