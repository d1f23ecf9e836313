// A notification written once: its requestId is unique, so the same request (or the same released report)
// arriving twice, under any CloudEvent id, makes one row; the second finds it and has no effect. Due later it
// waits, pending, for the cron. Due now, it is decided (dispatch.ts) and written as decided, with its
// deliveries and inbox item, in one statement.
import { randomUUID } from 'node:crypto';
import { Prisma, tableOf, typeOf, type Tx } from '../../shared/db';
import type { NotificationEmit } from '../system';
import { system } from '../system';
import type { Variables } from '../templates';
import { decide, deliveriesOf, outcomeOf, reachOf, type Dispatched, type Reach } from './dispatch';

export interface NewNotice {
  id?: string;
  requestId: string;
  recipientKind: 'patient' | 'operators';
  patientId?: string;
  team?: string;
  template: string;
  category: string;
  critical: boolean;
  variables: Variables;
  groupKey?: string;
  sendAt: Date;
}

export type Written = { duplicate: true } | ({ duplicate: false; notificationId: string } & (Dispatched | { status: 'pending'; sendAt: string; reason: 'scheduled' }));

const notifications = tableOf(system, 'notification');
const notificationStatus = typeOf(system, 'notification_status');

/** `reach`: the patient as the caller has just read them (REACH), so they are not read again. */
export async function writeNotice(tx: Tx, emit: NotificationEmit, notice: NewNotice, now: Date, reach?: Reach): Promise<Written> {
  const row = {
    id: notice.id ?? randomUUID(), requestId: notice.requestId, recipientKind: notice.recipientKind, patientId: notice.patientId ?? null, team: notice.team ?? null,
    template: notice.template, category: notice.category, critical: notice.critical, variables: notice.variables, groupKey: notice.groupKey ?? null,
  };
  const later = notice.sendAt.getTime() > now.getTime();
  const decision = later ? undefined : decide(row, row.recipientKind === 'patient' ? reach ?? await reachOf(tx, row.patientId!) : undefined, now);
  const status = !decision ? 'pending' : decision.status;
  const sendAt = decision?.status === 'pending' ? decision.sendAt : notice.sendAt;
  const channels = decision && 'channels' in decision ? decision.channels : [];
  const deliveries = decision && 'channels' in decision ? deliveriesOf(row, decision, now) : undefined;
  const written = Prisma.sql`EXISTS (SELECT 1 FROM written)`;
  const [{ fresh }] = await tx.$queryRaw<Array<{ fresh: boolean }>>`
    WITH written AS (
      INSERT INTO ${notifications} (id, request_id, recipient_kind, patient_id, team, template, category, critical, variables, group_key, channels, status, send_at)
      VALUES (${row.id}::uuid, ${row.requestId}, ${row.recipientKind}, ${row.patientId}, ${row.team}, ${row.template}, ${row.category}, ${row.critical},
        ${JSON.stringify(row.variables)}::jsonb, ${row.groupKey}, ${channels}::text[], ${status}::${notificationStatus}, ${sendAt})
      ON CONFLICT DO NOTHING RETURNING 1)
    ${deliveries ? Prisma.sql`, ${Prisma.join(deliveries.clauses(written), ', ')}` : Prisma.empty}
    SELECT ${written} AS fresh`;
  if (!fresh) return { duplicate: true };
  if (!decision) return { duplicate: false, notificationId: row.id, status: 'pending', sendAt: notice.sendAt.toISOString(), reason: 'scheduled' };
  await deliveries?.announce(emit);
  return { duplicate: false, notificationId: row.id, ...outcomeOf(decision) };
}
