// The POS's orders for visits (pos-orders, key orderId): an order opened links to its visit, a payment books a
// visit that waited for it (pending → booked), a refund marks the payment refunded. Each event counts once
// (consume()'s inbox), and the order only moves forward, so late or repeated events change nothing.
import { consume } from '../../shared/consume';
import { topics } from '../events';
import { recordOrderCreated, recordOrderPaid, recordOrderRefunded } from '../payments';
import { system } from '../system';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = consume(
  { name: 'pos-orders-consumer', system, topics: [topics.posOrders], summary: 'Apply POS orders (created, paid, refunded) to their visits' },
  {
    'com.medlab.pos.order-created': (order, { tx, emit }) => recordOrderCreated(tx, emit, order),
    'com.medlab.pos.order-paid': (payment, { tx, emit }) => recordOrderPaid(tx, emit, payment),
    'com.medlab.pos.order-refunded': (refund, { tx, emit }) => recordOrderRefunded(tx, emit, refund),
  },
);
