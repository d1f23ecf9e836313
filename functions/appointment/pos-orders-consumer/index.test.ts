import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as consumer from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, published, type RunningFunction } from '../../../test/support/fixtures';
import { seedClinic, createAppointment, at } from '../../../test/support/clinic';

describe('pos-orders-consumer (KafkaSource on pos-orders)', () => {
  let fn: RunningFunction;
  before(async () => { fn = await startFunction(consumer); });
  after(async () => fn.close());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  /** A cardiology visit booked but waiting for its POS payment, due within 30 minutes. */
  const awaitingPayment = () => createAppointment({
    start: at(2, '09:00'), visitTypeId: 'cardio-paid', status: 'pending', paymentStatus: 'awaiting', holdExpiresAt: new Date(Date.now() + 30 * 60_000),
  });
  const created = (orderId: string, appointmentId: string, amount = 450_000) => ({ type: 'com.medlab.pos.order-created', data: { orderId, appointmentId, amount, currency: 'VND' } });
  const paid = (orderId: string, extra: Record<string, unknown> = {}) => ({ type: 'com.medlab.pos.order-paid', data: { orderId, paidAt: new Date().toISOString(), ...extra } });
  const refunded = (orderId: string) => ({ type: 'com.medlab.pos.order-refunded', data: { orderId } });
  const events = async (appointmentId: string) => (await published('appointment-events')).filter((e) => e.key === appointmentId);
  const visit = (id: string) => db().appointment.findUniqueOrThrow({ where: { id } });
  const timeline = async (id: string) => (await db().timelineEntry.findMany({ where: { appointmentId: id }, orderBy: { id: 'asc' } })).map((e) => ({ kind: e.kind, by: e.by, detail: e.detail as Record<string, unknown> }));

  it('a paid-first visit: order-created links the order, order-paid books the pending visit and clears its payment deadline', async () => {
    const a = await awaitingPayment();
    const opened = await deliver(fn.url, created('POS-1', a.id));
    assert.equal(opened.status, 200);
    assert.equal(opened.body.result.outcome, 'linked');
    const order = await db().posOrder.findUniqueOrThrow({ where: { orderId: 'POS-1' } });
    assert.equal(order.status, 'created');
    assert.equal(order.amount, 450_000n);
    assert.equal((await visit(a.id)).status, 'pending', 'an opened order does not book the visit');

    const res = await deliver(fn.url, paid('POS-1'));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.outcome, 'booked');
    const after = await visit(a.id);
    assert.equal(after.status, 'booked');
    assert.equal(after.paymentStatus, 'paid');
    assert.equal(after.holdExpiresAt, null);
    assert.equal((await db().posOrder.findUniqueOrThrow({ where: { orderId: 'POS-1' } })).status, 'paid');
    assert.equal(await db().resourceBooking.count({ where: { appointmentId: a.id, releasedAt: null } }), 2, 'the visit keeps its doctor and ECG');

    const seen = await events(a.id);
    assert.deepEqual(seen.map((e) => [e.type, e.data.orderStatus ?? e.data.previousStatus]), [
      ['com.medlab.appointment.payment-changed', 'created'],
      ['com.medlab.appointment.payment-changed', 'paid'],
      ['com.medlab.appointment.status-changed', 'pending'],
    ]);
    const statusChanged = seen.find((e) => e.type === 'com.medlab.appointment.status-changed')!;
    assert.equal(statusChanged.data.status, 'booked');
    assert.equal(statusChanged.data.paymentStatus, 'paid');
    assert.deepEqual((await timeline(a.id)).map((e) => [e.kind, e.by]), [['payment-order-created', 'pos'], ['payment-paid', 'pos'], ['status-changed', 'pos']]);
  });

  it('an order for a visit that was nothing to pay makes it await payment', async () => {
    const a = await createAppointment({ start: at(2, '10:00') });
    await deliver(fn.url, created('POS-2', a.id));
    assert.equal((await visit(a.id)).paymentStatus, 'awaiting');
    assert.equal((await visit(a.id)).status, 'booked');
  });

  it('an order for an unknown appointment, or a payment of an unknown order naming none, is refused 422 naming the field (dead-lettered)', async () => {
    const unknownVisit = await deliver(fn.url, created('POS-3', randomUUID()));
    assert.equal(unknownVisit.status, 422);
    assert.deepEqual(unknownVisit.body['invalid-params'].map((p: { name: string }) => p.name), ['data/appointmentId']);
    const unknownOrder = await deliver(fn.url, paid('POS-404'));
    assert.equal(unknownOrder.status, 422);
    assert.deepEqual(unknownOrder.body['invalid-params'].map((p: { name: string }) => p.name), ['data/orderId']);
    assert.equal(await db().posOrder.count(), 0);
    assert.equal((await published('appointment-events')).length, 0);
  });

  it('data that breaks the contract is refused 400 naming the field', async () => {
    const res = await deliver(fn.url, { type: 'com.medlab.pos.order-created', data: { orderId: 'POS-5', appointmentId: 'nope', amount: 1.5 } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body['invalid-params'].map((p: { name: string }) => p.name).sort(), ['data/amount', 'data/appointmentId']);
  });

  it('the same event delivered twice has one effect; the same payment under a new event id changes nothing more', async () => {
    const a = await awaitingPayment();
    await deliver(fn.url, created('POS-6', a.id));
    const payment = { ...paid('POS-6'), id: 'pos-evt-1', source: '/pos' };
    assert.equal((await deliver(fn.url, payment)).body.status, 'processed');
    assert.equal((await deliver(fn.url, payment)).body.status, 'duplicate');
    const again = await deliver(fn.url, paid('POS-6'));
    assert.equal(again.body.result.outcome, 'already-paid');
    const seen = await events(a.id);
    assert.equal(seen.filter((e) => e.type === 'com.medlab.appointment.status-changed').length, 1);
    assert.equal(seen.filter((e) => e.data.orderStatus === 'paid').length, 1);
    assert.equal((await timeline(a.id)).filter((e) => e.kind === 'payment-paid').length, 1);
  });

  it('a payment that arrives before its order-created creates the order as paid; the late order-created never moves it back', async () => {
    const a = await awaitingPayment();
    const early = await deliver(fn.url, paid('POS-7', { appointmentId: a.id }));
    assert.equal(early.body.result.outcome, 'booked');
    const late = await deliver(fn.url, created('POS-7', a.id, 300_000));
    assert.equal(late.body.result.outcome, 'already-known');
    const order = await db().posOrder.findUniqueOrThrow({ where: { orderId: 'POS-7' } });
    assert.equal(order.status, 'paid');
    assert.equal(order.amount, 300_000n, 'the amount is the one the POS opened the order with');
    const after = await visit(a.id);
    assert.equal(after.status, 'booked');
    assert.equal(after.paymentStatus, 'paid');
  });

  it('a payment for a visit the cron already cancelled is recorded, the visit stays cancelled, and a refund or rebooking is asked for', async () => {
    const a = await awaitingPayment();
    await deliver(fn.url, created('POS-8', a.id));
    // The payment deadline passed first: the cron cancelled the visit and freed its resources.
    await db().appointment.update({ where: { id: a.id }, data: { status: 'cancelled', cancelReason: 'payment-expired', holdExpiresAt: null } });
    await db().resourceBooking.updateMany({ where: { appointmentId: a.id }, data: { releasedAt: new Date() } });
    const res = await deliver(fn.url, paid('POS-8'));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.outcome, 'paid-after-cancellation');
    assert.equal(res.body.result.action, 'refund-or-rebook');
    const after = await visit(a.id);
    assert.equal(after.status, 'cancelled');
    assert.equal(after.paymentStatus, 'paid');
    const entry = (await timeline(a.id)).find((e) => e.kind === 'payment-after-cancellation');
    assert.deepEqual(entry?.detail, { orderId: 'POS-8', cancelReason: 'payment-expired', action: 'refund-or-rebook' });
    assert.ok(!(await events(a.id)).some((e) => e.type === 'com.medlab.appointment.status-changed'));
  });

  it('a refund marks the order and the payment refunded and keeps the visit', async () => {
    const a = await awaitingPayment();
    await deliver(fn.url, created('POS-9', a.id));
    await deliver(fn.url, paid('POS-9'));
    const res = await deliver(fn.url, refunded('POS-9'));
    assert.equal(res.status, 200);
    assert.equal(res.body.result.outcome, 'refunded');
    assert.equal((await db().posOrder.findUniqueOrThrow({ where: { orderId: 'POS-9' } })).status, 'refunded');
    const after = await visit(a.id);
    assert.equal(after.paymentStatus, 'refunded');
    assert.equal(after.status, 'booked', 'a refund does not cancel the visit');
    assert.equal((await events(a.id)).at(-1)?.data.orderStatus, 'refunded');
    assert.ok((await timeline(a.id)).some((e) => e.kind === 'payment-refunded' && e.by === 'pos'));
    const latePayment = await deliver(fn.url, paid('POS-9'));
    assert.equal(latePayment.body.result.outcome, 'already-refunded');
    assert.equal((await visit(a.id)).paymentStatus, 'refunded');
  });
});
