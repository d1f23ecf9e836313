// POS orders through the bundle as `npm start` wires it (knative/ and keda/, in-process bus): records on
// pos-orders reach the consumer through its KafkaSource, a payment books the visit that waited for it, and
// an order nobody can place lands in the dead-letter system with the field at fault.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Bundle } from '../scripts/lib/runtime/bundle';
import { memoryBus } from '../scripts/lib/laptop/memory-bus';
import { db } from '../functions/shared/db';
import { resetDatabase, eventually, bundleIdle, published } from './support/fixtures';
import { seedClinic, createAppointment, at } from './support/clinic';

const record = (type: string, data: { orderId: string } & Record<string, unknown>, id = randomUUID()) => ({
  topic: 'pos-orders', key: data.orderId, value: JSON.stringify(data),
  headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/pos', ce_type: type, 'content-type': 'application/json' },
});

describe('POS orders through the bundle (pos-orders KafkaSource, in-process bus)', function () {
  this.timeout(60_000);
  let bundle: Bundle;
  before(async () => { bundle = await new Bundle({ port: 0, schedules: false }).start(); });
  after(async () => bundle?.stop());
  beforeEach(async () => { await resetDatabase(); await seedClinic(); });

  it('order-created then order-paid on pos-orders books the pending visit', async () => {
    const a = await createAppointment({ start: at(2, '09:00'), visitTypeId: 'cardio-paid', status: 'pending', paymentStatus: 'awaiting', holdExpiresAt: new Date(Date.now() + 30 * 60_000) });
    await memoryBus.send([
      record('com.medlab.pos.order-created', { orderId: 'POS-100', appointmentId: a.id, amount: 450_000 }),
      record('com.medlab.pos.order-paid', { orderId: 'POS-100' }),
    ]);
    await bundleIdle(bundle);
    const after = await db().appointment.findUniqueOrThrow({ where: { id: a.id } });
    assert.equal(after.status, 'booked');
    assert.equal(after.paymentStatus, 'paid');
    const types = (await published('appointment-events')).filter((e) => e.key === a.id).map((e) => e.type);
    assert.deepEqual(types, ['com.medlab.appointment.payment-changed', 'com.medlab.appointment.payment-changed', 'com.medlab.appointment.status-changed']);
  });

  it('a payment of an unknown order naming no visit is dead-lettered at once with the field at fault', async () => {
    const id = randomUUID();
    await memoryBus.send([record('com.medlab.pos.order-paid', { orderId: 'POS-404' }, id)]);
    await bundleIdle(bundle);
    const letter = await eventually(() => db().deadLetter.findFirst({ where: { eventId: id } }), 'the dead letter');
    assert.equal(letter.errorCode, 422);
    assert.match(letter.reason ?? '', /no POS order POS-404/);
    assert.equal(JSON.parse(Buffer.from(letter.errorData ?? '', 'base64').toString('utf8'))['invalid-params'][0].name, 'data/orderId', 'the consumer\'s answer (knativeerrordata, base64) names the field');
    assert.equal(await db().posOrder.count(), 0);
  });
});
