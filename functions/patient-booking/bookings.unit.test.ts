import { strict as assert } from 'node:assert';
import { moves, bookingStatuses } from './bookings';

describe('a package booking\'s status only moves forward (moves)', () => {
  it('along the visit: requested → pending → confirmed → checked_in → completed', () => {
    assert.ok(moves('requested', 'pending'));
    assert.ok(moves('pending', 'confirmed'));
    assert.ok(moves('requested', 'confirmed'));
    assert.ok(moves('confirmed', 'checked_in'));
    assert.ok(moves('checked_in', 'completed'));
    assert.ok(moves('confirmed', 'no_show'));
  });

  it('never back: a late confirmed after checked_in, pending after confirmed', () => {
    assert.ok(!moves('checked_in', 'confirmed'));
    assert.ok(!moves('confirmed', 'pending'));
    assert.ok(!moves('confirmed', 'confirmed'));
  });

  it('a cancellation asked for is not undone by a confirmation, but the queue\'s check-in or cancellation wins', () => {
    assert.ok(!moves('cancel_requested', 'confirmed'));
    assert.ok(!moves('cancel_requested', 'pending'));
    assert.ok(moves('cancel_requested', 'cancelled'));
    assert.ok(moves('cancel_requested', 'checked_in'));
  });

  it('nothing leaves an ended booking', () => {
    for (const ended of ['completed', 'no_show', 'rejected', 'cancelled'] as const) {
      for (const to of bookingStatuses) assert.ok(!moves(ended, to), `${ended} → ${to}`);
    }
  });
});
