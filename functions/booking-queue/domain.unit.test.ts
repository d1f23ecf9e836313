// The booking queue's rules as pure functions: lanes, waits, transitions and branch-local days.
import { strict as assert } from 'node:assert';
import { assertTransition, bookedLane, etaMinutes, ticketNumber, ON_TIME_MINUTES } from './domain';
import { addDays, branchDay, dayBounds, daysCovered, isoWeekday, localTimeToUtc } from './calendar';
import { DomainError } from '../shared/domain-errors';

describe('booking-queue rules (no database)', () => {
  it(`a booked patient on time (up to ${ON_TIME_MINUTES} minutes late) queues as booked, later as a walk-in; a tier goes first`, () => {
    const starts = new Date('2030-01-01T02:00:00Z');
    assert.equal(bookedLane(starts, new Date(starts.getTime() + ON_TIME_MINUTES * 60_000), undefined), 'booked');
    assert.equal(bookedLane(starts, new Date(starts.getTime() + (ON_TIME_MINUTES + 1) * 60_000), undefined), 'walkin');
    assert.equal(bookedLane(starts, new Date(starts.getTime() + 3600_000), 'svip'), 'svip');
  });

  it('the wait is the patients ahead at the pace of the counters', () => {
    assert.equal(etaMinutes(0, 5, 1), 0);
    assert.equal(etaMinutes(4, 5, 1), 20);
    assert.equal(etaMinutes(4, 5, 2), 10);
  });

  it('ticket numbers are the prefix and a three-digit count', () => {
    assert.equal(ticketNumber('A', 7), 'A-007');
    assert.equal(ticketNumber('B', 1234), 'B-1234');
  });

  it('a booking moves only forward, and a refused move is a conflict naming the field', () => {
    assert.doesNotThrow(() => assertTransition('pending', 'confirmed'));
    assert.throws(() => assertTransition('completed', 'confirmed', 'status'), (err: unknown) => err instanceof DomainError && err.refusal === 'conflict' && err.field === 'status');
  });

  it('branch-local days: Ho Chi Minh City midnight is 17:00 UTC the day before', () => {
    assert.equal(branchDay(new Date('2030-01-01T16:59:59Z'), 'Asia/Ho_Chi_Minh'), '2030-01-01');
    assert.equal(branchDay(new Date('2030-01-01T17:00:00Z'), 'Asia/Ho_Chi_Minh'), '2030-01-02');
    assert.equal(localTimeToUtc('2030-01-02', '08:00', 'Asia/Ho_Chi_Minh').toISOString(), '2030-01-02T01:00:00.000Z');
    const { start, end } = dayBounds('2030-01-02', 'Asia/Ho_Chi_Minh');
    assert.deepEqual([start.toISOString(), end.toISOString()], ['2030-01-01T17:00:00.000Z', '2030-01-02T17:00:00.000Z']);
    assert.equal(addDays('2030-12-31', 1), '2031-01-01');
    assert.equal(daysCovered('2030-01-01', '2030-01-07'), 7);
    assert.equal(isoWeekday('2030-01-06'), 7);
  });
});
