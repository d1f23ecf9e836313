// The booking queue (seed spc--booking-qs): branches, services, slots with capacity, bookings, the clinic
// queue and its board. Its tables live in the PostgreSQL schema booking_queue.
import { defineSystem, type Emit } from '../shared/system';
import { events, topics } from './events';

export const system = defineSystem({
  name: 'booking-queue',
  seed: 'spc--booking-qs',
  schema: 'booking_queue',
  events,
  externalTopics: { [topics.bookingRequests]: 'patient portal and patient-booking system (booking requests)' },
});

export type BookingQueueEmit = Emit<typeof events>;
