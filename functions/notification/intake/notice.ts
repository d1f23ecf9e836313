// A notification written once: its requestId is unique, so the same request (or the same released report)
// arriving twice, under any CloudEvent id, makes one row; the second finds it and has no effect. Due now, it
// is dispatched in the same transaction; due later it waits, pending, for the cron.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../shared/db';
import type { NotificationEmit } from '../system';
import type { Variables } from '../templates';
import { dispatch, type Dispatched } from './dispatch';

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

export async function writeNotice(tx: Tx, emit: NotificationEmit, notice: NewNotice, now: Date): Promise<Written> {
  const id = notice.id ?? randomUUID();
  const row = {
    id, requestId: notice.requestId, recipientKind: notice.recipientKind, patientId: notice.patientId ?? null, team: notice.team ?? null,
    template: notice.template, category: notice.category, critical: notice.critical, variables: notice.variables,
    groupKey: notice.groupKey ?? null, channels: [], status: 'pending' as const, sendAt: notice.sendAt,
  };
  const { count } = await tx.notification.createMany({ data: [row], skipDuplicates: true });
  if (count === 0) return { duplicate: true };
  if (notice.sendAt.getTime() > now.getTime()) return { duplicate: false, notificationId: id, status: 'pending', sendAt: notice.sendAt.toISOString(), reason: 'scheduled' };
  return { duplicate: false, notificationId: id, ...(await dispatch(tx, emit, row, now)) };
}
