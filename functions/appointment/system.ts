// The appointment system (seed spc--appointment--be): clinic visits on rooms, staff and devices, never
// double-booked; the LIS's sample status and the POS's payments on each visit's timeline; reminders and
// company check-ups. Its tables live in the PostgreSQL schema appointment.
import { defineSystem, type Emit } from '../shared/system';
import { events, topics } from './events';

export const system = defineSystem({
  name: 'appointment',
  seed: 'spc--appointment--be',
  schema: 'appointment',
  events,
  externalTopics: {
    [topics.sampleStatus]: 'the LIS (HL7 v2: OML^O21 and ORL^O22 order status, SSU^U03 container status, specimen rejection)',
    [topics.posOrders]: 'the POS (orders created, paid, refunded)',
    [topics.checkups]: 'partner systems (company check-up employee lists)',
  },
});

export type AppointmentEmit = Emit<typeof events>;
