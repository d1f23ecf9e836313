// What a POS order does to its visit. The POS sends order-created, order-paid and order-refunded on
// pos-orders (key orderId); they may arrive late or out of order, so each rule only moves forward: an order
// goes created → paid → refunded and never back, and a visit's payment status never leaves paid for awaiting.
// The decisions are plain functions (unit-tested without a database); record*() apply them in a transaction.
import type { Appointment, AppointmentStatus, PaymentStatus, PosOrder, PosOrderStatus } from '../shared/generated/prisma/client';
import type { Tx } from '../shared/db';
import { conflict, notFound } from '../shared/domain-errors';
import { assertMove, facts, lockAppointment, note } from './appointments';
import type { AppointmentEmit } from './system';

// ---------- the rules (no database) ----------

const ORDER_RANK: Record<PosOrderStatus, number> = { created: 0, paid: 1, refunded: 2 };

/** An order moves forward only: a late order-created after paid, or a late paid after refunded, changes nothing. */
export const orderMovesTo = (current: PosOrderStatus | undefined, next: PosOrderStatus) => current === undefined || ORDER_RANK[next] > ORDER_RANK[current];

/** The visit's payment status once an order is opened for it: something is now awaited, unless it is settled. */
export const paymentOnOrderCreated = (current: PaymentStatus): PaymentStatus => (current === 'not_required' || current === 'awaiting' ? 'awaiting' : current);

export type PaidOutcome =
  /** A pending visit (booked, awaiting payment) is booked now. */
  | { outcome: 'booked'; status: 'booked' }
  /** Paid after it was cancelled (the cron's payment deadline, or a person): staff must refund or rebook. */
  | { outcome: 'paid-after-cancellation'; action: 'refund-or-rebook' }
  /** Any other status: the payment is recorded, the visit goes on as it was. */
  | { outcome: 'paid' };

export function onPaid(status: AppointmentStatus): PaidOutcome {
  if (status === 'pending') return { outcome: 'booked', status: 'booked' };
  if (status === 'cancelled') return { outcome: 'paid-after-cancellation', action: 'refund-or-rebook' };
  return { outcome: 'paid' };
}

// ---------- applying them ----------

export interface OrderCreated { orderId: string; appointmentId: string; amount: number; currency?: string }
export interface OrderSettled { orderId: string; appointmentId?: string; amount?: number; paidAt?: string; refundedAt?: string }

const BY = 'pos';

/**
 * The visit an order event is about, locked: the order's own visit, else the one the event names. An order
 * for another visit than the event says, or no visit at all, can never succeed (a refusal: dead-lettered).
 */
async function visitOf(tx: Tx, order: PosOrder | null, orderId: string, appointmentId: string | undefined): Promise<Appointment> {
  if (order && appointmentId && order.appointmentId !== appointmentId) throw conflict(`order ${orderId} belongs to another appointment`, 'appointmentId');
  const id = order?.appointmentId ?? appointmentId;
  if (!id) throw notFound('orderId', `no POS order ${orderId} is known, and the event names no appointmentId to link it to`);
  const visit = await lockAppointment(tx, id);
  if (!visit) throw notFound('appointmentId');
  return visit;
}

const lockOrder = async (tx: Tx, orderId: string) => {
  // Two events of one order run in key order on one partition; the lock covers a redrive racing them.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('pos-order'), hashtext(${orderId}))`;
  return tx.posOrder.findUnique({ where: { orderId } });
};

async function changed(tx: Tx, emit: AppointmentEmit, visit: Appointment, orderId: string, orderStatus: 'created' | 'paid' | 'refunded') {
  await emit('com.medlab.appointment.payment-changed', { ...facts(visit), orderId, orderStatus });
}

/** order-created: the order is linked to its visit, which now awaits payment (unless already settled). */
export async function recordOrderCreated(tx: Tx, emit: AppointmentEmit, data: OrderCreated) {
  const order = await lockOrder(tx, data.orderId);
  const visit = await visitOf(tx, order, data.orderId, data.appointmentId);
  const amount = { amount: BigInt(data.amount), ...(data.currency ? { currency: data.currency } : {}) };
  if (order) {
    // Paid (or refunded) before its creation arrived: the amount is the POS's, the status stays where it is.
    await tx.posOrder.update({ where: { orderId: order.orderId }, data: amount });
    return { outcome: 'already-known', orderStatus: order.status, appointmentId: visit.id };
  }
  await tx.posOrder.create({ data: { orderId: data.orderId, appointmentId: visit.id, status: 'created', ...amount } });
  const paymentStatus = paymentOnOrderCreated(visit.paymentStatus);
  const updated = paymentStatus === visit.paymentStatus ? visit : await tx.appointment.update({ where: { id: visit.id }, data: { paymentStatus } });
  await note(tx, visit.id, 'payment-order-created', BY, { orderId: data.orderId, amount: data.amount, currency: data.currency ?? 'VND' });
  await changed(tx, emit, updated, data.orderId, 'created');
  return { outcome: 'linked', orderStatus: 'created', appointmentId: visit.id, paymentStatus: updated.paymentStatus };
}

/**
 * order-paid: the order and the visit are paid; a pending visit is booked (its payment deadline cleared). A
 * payment for a visit already cancelled is kept, and the timeline and the result say a refund or rebooking is
 * needed. A payment that arrives before its order-created, naming its visit, creates the order as paid.
 */
export async function recordOrderPaid(tx: Tx, emit: AppointmentEmit, data: OrderSettled) {
  const order = await lockOrder(tx, data.orderId);
  const visit = await visitOf(tx, order, data.orderId, data.appointmentId);
  if (order && !orderMovesTo(order.status, 'paid')) return { outcome: `already-${order.status}`, appointmentId: visit.id };
  const amount = data.amount !== undefined ? { amount: BigInt(data.amount) } : {};
  if (order) await tx.posOrder.update({ where: { orderId: order.orderId }, data: { status: 'paid', ...amount } });
  else await tx.posOrder.create({ data: { orderId: data.orderId, appointmentId: visit.id, status: 'paid', amount: BigInt(data.amount ?? 0) } });

  const decision = onPaid(visit.status);
  if (decision.outcome === 'booked') assertMove(visit.status, 'booked');
  const updated = await tx.appointment.update({
    where: { id: visit.id },
    data: { paymentStatus: 'paid', ...(decision.outcome === 'booked' ? { status: 'booked', holdExpiresAt: null } : {}) },
  });
  await note(tx, visit.id, 'payment-paid', BY, { orderId: data.orderId, ...(data.paidAt ? { paidAt: data.paidAt } : {}) });
  await changed(tx, emit, updated, data.orderId, 'paid');
  if (decision.outcome === 'booked') {
    await note(tx, visit.id, 'status-changed', BY, { from: 'pending', to: 'booked', orderId: data.orderId });
    await emit('com.medlab.appointment.status-changed', { ...facts(updated), previousStatus: 'pending' });
  }
  if (decision.outcome === 'paid-after-cancellation') {
    await note(tx, visit.id, 'payment-after-cancellation', BY, { orderId: data.orderId, cancelReason: visit.cancelReason, action: decision.action });
  }
  return { ...decision, appointmentId: visit.id, status: updated.status, paymentStatus: updated.paymentStatus };
}

/** order-refunded: the order and the visit's payment are refunded. The visit itself is not cancelled. */
export async function recordOrderRefunded(tx: Tx, emit: AppointmentEmit, data: OrderSettled) {
  const order = await lockOrder(tx, data.orderId);
  const visit = await visitOf(tx, order, data.orderId, data.appointmentId);
  if (order && !orderMovesTo(order.status, 'refunded')) return { outcome: 'already-refunded', appointmentId: visit.id };
  const amount = data.amount !== undefined ? { amount: BigInt(data.amount) } : {};
  if (order) await tx.posOrder.update({ where: { orderId: order.orderId }, data: { status: 'refunded', ...amount } });
  else await tx.posOrder.create({ data: { orderId: data.orderId, appointmentId: visit.id, status: 'refunded', amount: BigInt(data.amount ?? 0) } });
  const updated = await tx.appointment.update({ where: { id: visit.id }, data: { paymentStatus: 'refunded' } });
  await note(tx, visit.id, 'payment-refunded', BY, { orderId: data.orderId, ...(data.refundedAt ? { refundedAt: data.refundedAt } : {}) });
  await changed(tx, emit, updated, data.orderId, 'refunded');
  return { outcome: 'refunded', appointmentId: visit.id, status: updated.status, paymentStatus: updated.paymentStatus };
}
