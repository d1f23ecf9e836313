import { strict as assert } from 'node:assert';
import { onPaid, orderMovesTo, paymentOnOrderCreated } from './payments';

describe('POS payment rules (no database)', () => {
  it('an order only moves forward: created → paid → refunded', () => {
    assert.ok(orderMovesTo(undefined, 'created'));
    assert.ok(orderMovesTo('created', 'paid'));
    assert.ok(orderMovesTo('paid', 'refunded'));
    assert.ok(!orderMovesTo('paid', 'created'), 'a late order-created never moves a paid order back');
    assert.ok(!orderMovesTo('paid', 'paid'), 'a payment seen again changes nothing');
    assert.ok(!orderMovesTo('refunded', 'paid'), 'a late payment after the refund changes nothing');
  });

  it('an opened order makes the visit await payment, unless it is paid or refunded already', () => {
    assert.equal(paymentOnOrderCreated('not_required'), 'awaiting');
    assert.equal(paymentOnOrderCreated('awaiting'), 'awaiting');
    assert.equal(paymentOnOrderCreated('paid'), 'paid');
    assert.equal(paymentOnOrderCreated('refunded'), 'refunded');
  });

  it('a payment books a pending visit, asks for a refund or rebooking of a cancelled one, and leaves others as they are', () => {
    assert.deepEqual(onPaid('pending'), { outcome: 'booked', status: 'booked' });
    assert.deepEqual(onPaid('cancelled'), { outcome: 'paid-after-cancellation', action: 'refund-or-rebook' });
    assert.deepEqual(onPaid('booked'), { outcome: 'paid' });
    assert.deepEqual(onPaid('arrived'), { outcome: 'paid' });
  });
});
