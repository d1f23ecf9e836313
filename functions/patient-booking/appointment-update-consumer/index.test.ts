import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fn from './index';
import { db } from '../../shared/db';
import { startFunction, deliver, resetDatabase, BRANCH, type RunningFunction } from '../../../test/support/fixtures';

describe('appointment-update-consumer (KafkaSource on appointment-events)', () => {
  let running: RunningFunction;
  before(async () => { running = await startFunction(fn); });
  after(async () => running.close());
  beforeEach(resetDatabase);

  const appointmentId = randomUUID();
  const facts = (o: Record<string, unknown> = {}) => ({
    appointmentId, patientId: 'p-1', branchId: BRANCH, visitTypeId: 'annual-checkup',
    start: '2030-03-04T02:00:00.000Z', end: '2030-03-04T02:30:00.000Z', status: 'booked', paymentStatus: 'not-required', ...o,
  });
  /** An appointment event at a given time (the appointment system's outbox time, as its publisher sends it). */
  const send = (type: string, data: unknown, time: string) => deliver(running.url, { type: `com.medlab.appointment.${type}`, data }, { 'ce-time': time });
  const visit = () => db().visit.findUnique({ where: { appointmentId } });

  it('keeps the visit as the appointment system tells it: booked, rescheduled, checked in, cancelled', async () => {
    await send('booked', facts({ resourceIds: [] }), '2030-03-01T01:00:00Z');
    assert.deepEqual([(await visit())?.status, (await visit())?.patientId, (await visit())?.startsAt.toISOString()], ['booked', 'p-1', '2030-03-04T02:00:00.000Z']);
    await send('changed', facts({ start: '2030-03-04T03:00:00.000Z', end: '2030-03-04T03:30:00.000Z', change: 'rescheduled' }), '2030-03-02T01:00:00Z');
    assert.equal((await visit())?.startsAt.toISOString(), '2030-03-04T03:00:00.000Z');
    await send('payment-changed', facts({ paymentStatus: 'paid', orderId: 'pos-1', orderStatus: 'paid' }), '2030-03-03T01:00:00Z');
    await send('status-changed', facts({ status: 'checked-in', paymentStatus: 'paid', previousStatus: 'booked' }), '2030-03-04T02:01:00Z');
    assert.deepEqual([(await visit())?.status, (await visit())?.paymentStatus], ['checked-in', 'paid']);
    await send('cancelled', facts({ status: 'cancelled', reason: 'clinic', cancelledBy: 'staff' }), '2030-03-04T02:05:00Z');
    assert.equal((await visit())?.status, 'cancelled');
  });

  it('an older event arriving late changes nothing', async () => {
    await send('status-changed', facts({ status: 'fulfilled', previousStatus: 'checked-in' }), '2030-03-04T03:00:00Z');
    const late = await send('booked', facts({ resourceIds: [] }), '2030-03-01T01:00:00Z');
    assert.equal(late.status, 200);
    assert.equal(late.body.result.unchanged, 'a newer event was applied');
    assert.equal((await visit())?.status, 'fulfilled');
  });

  it('a sample of the visit records its accession as the visit\'s and its patient\'s, so results of it find both', async () => {
    await send('sample-status-changed', facts({ status: 'checked-in', accession: 'ACC-1001', sampleStatus: 'collected' }), '2030-03-04T02:10:00Z');
    const order = await db().resultOrder.findUniqueOrThrow({ where: { accession: 'ACC-1001' } });
    assert.deepEqual([order.patientId, order.appointmentId, order.packageBookingId], ['p-1', appointmentId, null]);
    // Later reports of the same sample change nothing.
    await send('sample-status-changed', facts({ status: 'checked-in', accession: 'ACC-1001', sampleStatus: 'received' }), '2030-03-04T02:40:00Z');
    assert.equal(await db().resultOrder.count(), 1);
  });

  it('a result that named the accession first gets its visit; an accession of another patient is refused (422, dead-lettered)', async () => {
    await db().resultOrder.create({ data: { accession: 'ACC-2002', patientId: 'p-1' } });
    await send('sample-status-changed', facts({ accession: 'ACC-2002', sampleStatus: 'completed' }), '2030-03-04T04:00:00Z');
    assert.equal((await db().resultOrder.findUniqueOrThrow({ where: { accession: 'ACC-2002' } })).appointmentId, appointmentId);

    await db().resultOrder.create({ data: { accession: 'ACC-3003', patientId: 'p-7' } });
    const refused = await send('sample-status-changed', facts({ accession: 'ACC-3003', sampleStatus: 'collected' }), '2030-03-04T04:10:00Z');
    assert.equal(refused.status, 422);
    assert.equal(refused.body['invalid-params'][0].name, 'data/accession');
    assert.equal((await db().resultOrder.findUniqueOrThrow({ where: { accession: 'ACC-3003' } })).patientId, 'p-7');
  });

  it('events results do not need (a hold, a reminder) are answered 200 and keep nothing', async () => {
    assert.equal((await send('held', facts({ status: 'proposed', holdExpiresAt: '2030-03-01T01:10:00Z' }), '2030-03-01T01:00:00Z')).status, 200);
    assert.equal((await send('reminder-due', facts({ reminder: '24h', patientTimezone: 'Asia/Ho_Chi_Minh', language: 'vi' }), '2030-03-03T02:00:00Z')).status, 200);
    assert.equal(await visit(), null);
  });
});
